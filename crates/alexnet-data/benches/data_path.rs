//! Decode + augment throughput on real JPEG photos (`datasets/samples/*.jpg`, 451x300 to
//! 640x427), the paper's training transform at 224 (shorter side to 256, random 224 crop, flip,
//! PCA lighting, normalise to f32 CHW). Reports images/s on one core (decode only, augment only,
//! both) and with every core (rayon, as the loader runs).
//!
//! `cargo bench -p alexnet-data --bench data_path`; compare with
//! `python3 crates/alexnet-data/benches/torchvision_data.py` on the same machine.

use std::path::Path;
use std::time::Instant;

use alexnet_data::rng::Rng;
use alexnet_data::{AugmentConfig, decode_bytes};
use rayon::prelude::*;

const ROUNDS: usize = 100;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/samples");
    let mut photos: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("datasets/samples exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .map(|p| std::fs::read(p).expect("readable"))
        .collect();
    photos.sort();
    let n = ROUNDS * photos.len();
    let augment = AugmentConfig::paper(224);
    let decoded: Vec<_> = photos
        .iter()
        .map(|b| decode_bytes(b).expect("decodes"))
        .collect();

    let rate = |f: &dyn Fn(usize)| {
        f(0); // warm-up
        let start = Instant::now();
        for i in 0..n {
            f(i);
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let decode = rate(&|i| {
        std::hint::black_box(decode_bytes(&photos[i % photos.len()]).expect("decodes"));
    });
    let aug = rate(&|i| {
        let mut rng = Rng::for_item(0, 0, i as u64);
        std::hint::black_box(augment.apply(&decoded[i % decoded.len()], &mut rng));
    });
    let both = rate(&|i| {
        let image = decode_bytes(&photos[i % photos.len()]).expect("decodes");
        let mut rng = Rng::for_item(0, 0, i as u64);
        std::hint::black_box(augment.apply(&image, &mut rng));
    });
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    (0..n * threads).into_par_iter().for_each(|i| {
        let image = decode_bytes(&photos[i % photos.len()]).expect("decodes");
        let mut rng = Rng::for_item(0, 0, i as u64);
        std::hint::black_box(augment.apply(&image, &mut rng));
    });
    let parallel = (n * threads) as f64 / start.elapsed().as_secs_f64();

    println!(
        "alexnet-data, {} photos x {ROUNDS}, paper transform at 224",
        photos.len()
    );
    println!("decode only, 1 core:        {decode:8.1} images/s");
    println!("augment only, 1 core:       {aug:8.1} images/s");
    println!("decode + augment, 1 core:   {both:8.1} images/s");
    println!("decode + augment, {threads} threads: {parallel:8.1} images/s");
}
