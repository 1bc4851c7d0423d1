//! The results of `predict` and `neighbours`: a [`Prediction`] per image (its most probable
//! classes) and a [`Match`] per query (its nearest gallery images), printed as JSON and text and
//! drawn as pictures (`predict --sheet`, `neighbours -o`).

use serde::Serialize;

/// One class of a prediction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Class {
    /// Output index.
    pub index: usize,
    /// Class name.
    pub label: String,
    /// Softmax probability.
    pub prob: f32,
}

/// The prediction for one image (`--json` prints an array of these).
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// The path as given on the command line.
    pub image: String,
    /// The most probable classes, most probable first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_k: Vec<Class>,
    /// Why the image could not be classified (it is then left out of the ranking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One gallery image near a query.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    /// The gallery file.
    pub image: String,
    /// The Euclidean distance between its fc7 features and the query's.
    pub distance: f64,
}

/// A query and its nearest gallery images, nearest first (`--json` prints an array of these).
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// The query as given on the command line.
    pub query: String,
    /// The nearest gallery images, by increasing distance (ties by path).
    pub neighbours: Vec<Neighbour>,
}
