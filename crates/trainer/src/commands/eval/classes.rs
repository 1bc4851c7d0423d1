//! Whether a dataset's classes are a model's: labels are output indices, so a class missing,
//! added or renamed on either side would score every later image against the wrong output.

/// The first class where `model` and `dataset` (class names in output / label order) differ,
/// described for an error message; `None` when the lists are the same.
pub fn first_difference(model: &[String], dataset: &[String]) -> Option<String> {
    let i = (0..model.len().max(dataset.len())).find(|&i| model.get(i) != dataset.get(i))?;
    let name =
        |class: Option<&String>| class.map_or_else(|| "none".to_owned(), |c| format!("`{c}`"));
    Some(format!(
        "class {i}: the model has {}, the dataset has {} (the model has {} classes, the dataset {})",
        name(model.get(i)),
        name(dataset.get(i)),
        model.len(),
        dataset.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_same_classes_have_no_difference() {
        assert_eq!(
            first_difference(&names(&["a", "b"]), &names(&["a", "b"])),
            None
        );
    }

    #[test]
    fn the_first_differing_index_is_named_with_both_sides() {
        let model = names(&["cat", "dog", "fox"]);
        let renamed = first_difference(&model, &names(&["cat", "wolf", "fox"]));
        assert_eq!(
            renamed.as_deref(),
            Some(
                "class 1: the model has `dog`, the dataset has `wolf` (the model has 3 classes, \
                 the dataset 3)"
            )
        );
        let shorter = first_difference(&model, &names(&["cat", "dog"]));
        assert!(
            shorter.is_some_and(
                |d| d.starts_with("class 2: the model has `fox`, the dataset has none")
            )
        );
        let longer = first_difference(&names(&["cat"]), &names(&["cat", "dog"]));
        assert!(
            longer.is_some_and(
                |d| d.starts_with("class 1: the model has none, the dataset has `dog`")
            )
        );
    }
}
