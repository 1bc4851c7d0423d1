//! Build-time only: no code. Its dependencies' features give the workspace's builds with and
//! without LibTorch the same compiled dependencies (see its `Cargo.toml`).
