//! The pictures of the 2012 paper, drawn as PNG files: conv1's kernels ([`kernels`], its
//! Figure 3), images with their top classes ([`sheet`], Figure 4 left) and the images nearest in
//! fc7's space ([`neighbour_rows`], Figure 4 right), on a [`Canvas`].

mod canvas;
pub mod kernels;
pub mod neighbour_rows;
pub mod sheet;

pub use canvas::{Canvas, register_font, thumbnail};

use std::path::Path;

/// A caption for an image file: its folder and name (`cat/0001.jpg`), as an image folder's
/// folder is the image's class.
pub fn caption(path: &str) -> String {
    let path = Path::new(path);
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match (path.parent().and_then(name), name(path)) {
        (Some(dir), Some(file)) => format!("{dir}/{file}"),
        (None, Some(file)) => file,
        _ => path.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn captions_keep_the_folder() {
        assert_eq!(super::caption("data/val/cat/0001.jpg"), "cat/0001.jpg");
        assert_eq!(super::caption("photo.jpg"), "photo.jpg");
    }
}
