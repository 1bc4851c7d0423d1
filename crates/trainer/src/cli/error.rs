//! How errors reach the user: a usage error (a problem with what was asked for) exits with
//! code 2, any other failure with 1; either is printed once with its causes.

/// A problem with what the user asked for (exit code 2), as opposed to a failure while working.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand for a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Prints `err` with its causes; returns the exit code: 2 for a usage error, 1 otherwise.
pub fn report(err: &anyhow::Error) -> i32 {
    eprintln!("error: {err:#}");
    if err.downcast_ref::<UsageError>().is_some() {
        2
    } else {
        1
    }
}
