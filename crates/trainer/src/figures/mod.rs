//! The pictures of the 2012 paper, drawn as PNG files: conv1's kernels ([`filters`], its
//! Figure 3), images with their top classes ([`sheet`], Figure 4 left) and the images nearest in
//! fc7's space ([`neighbours`], Figure 4 right), on a [`Canvas`].

mod canvas;
pub mod filters;
pub mod neighbours;
pub mod sheet;

pub use canvas::{Canvas, register_font, thumbnail};
