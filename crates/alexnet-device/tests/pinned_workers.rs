//! `start_pinned_workers` on the real global pool: a process of its own, since the pool is
//! started once per process.

#[cfg(target_os = "linux")]
#[test]
fn every_worker_of_the_global_pool_has_a_cpu_of_its_own() {
    let cpus = alexnet_device::allowed_cpus();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let pinned = alexnet_device::start_pinned_workers().expect("the global pool starts");
    let masks = rayon::broadcast(|_| alexnet_device::allowed_cpus());
    if std::env::var_os("RAYON_NUM_THREADS").is_some() || threads != cpus.len() {
        // Another thread count than CPUs (a quota, or the user's): the kernel places them.
        assert_eq!(pinned, 0);
        assert!(masks.iter().all(|m| *m == cpus));
        return;
    }
    assert_eq!(pinned, cpus.len());
    let mut owned: Vec<usize> = masks
        .iter()
        .map(|m| {
            assert_eq!(m.len(), 1, "a worker may run on {m:?}");
            m[0]
        })
        .collect();
    owned.sort_unstable();
    assert_eq!(owned, cpus, "each CPU has one worker");
    assert_eq!(
        alexnet_device::allowed_cpus(),
        cpus,
        "the caller stays free"
    );
    assert!(
        alexnet_device::start_pinned_workers().is_err(),
        "a second start is refused: the pool exists"
    );
}
