//! A saved model run on images, for `predict`, `filters` and `neighbours`: loading it with its
//! class names and eval transform ([`Classifier`]), its top-k predictions, and the results that
//! `predict` and `neighbours` print and draw.

mod classifier;
pub mod results;

pub use self::classifier::{Classifier, load, values};
