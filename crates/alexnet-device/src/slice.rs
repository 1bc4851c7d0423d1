//! A short scheduler time slice for the CPU training threads, on Linux.
//!
//! A CPU training step is a chain of parallel operations: between two of them the rayon workers
//! wait, and the kernel may give their core to another process, even one at `nice 19`. Linux's
//! EEVDF scheduler (6.6 and later) lets that process run out its slice before the woken worker
//! gets the core back, and the step waits for its slowest worker. Since Linux 6.12 a thread
//! may ask for a shorter slice (`sched_setattr` with `sched_runtime`, `SCHED_OTHER`, no
//! privilege needed): a woken thread with a shorter slice preempts the running one at once.
//! Measurements: docs/performance.md, "On a busy machine".

/// The slice the training threads ask for: the kernel's minimum, 0.1 ms.
pub const SHORT_SLICE_NS: u64 = 100_000;

/// Asks the kernel to run the calling thread, and every thread it starts from now on, with a
/// [`SHORT_SLICE_NS`] time slice under the normal (`SCHED_OTHER`) policy at its current nice
/// value, and returns whether the kernel accepted the request. Call it at the top of `main`,
/// before any thread starts: new threads inherit it.
///
/// Kernels before 6.12 accept the request and ignore the slice; other systems than Linux make
/// this a no-op that returns `false`. It changes when threads run, never what they compute.
pub fn request_short_slice() -> bool {
    imp::set_slice(SHORT_SLICE_NS)
}

/// The calling thread's scheduler slice in nanoseconds, as `/proc/thread-self/sched` reports it
/// (`se.slice`), where the kernel reports one.
pub fn current_slice_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
    text.lines()
        .find(|line| line.trim_start().starts_with("se.slice"))
        .and_then(|line| line.split(':').nth(1))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(target_os = "linux")]
mod imp {
    /// `struct sched_attr` of `sched_setattr(2)`, its first version (48 bytes).
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }

    const SIZE: u32 = std::mem::size_of::<SchedAttr>() as u32;

    /// The calling thread's scheduling attributes (`sched_getattr`).
    #[allow(unsafe_code)]
    fn get() -> Option<SchedAttr> {
        let mut attr = SchedAttr {
            size: SIZE,
            policy: 0,
            flags: 0,
            nice: 0,
            priority: 0,
            runtime: 0,
            deadline: 0,
            period: 0,
        };
        // SAFETY: `attr` is a writable `struct sched_attr` of `SIZE` bytes, the size passed, and
        // outlives the call; pid 0 is the calling thread; the kernel writes at most `SIZE` bytes.
        let result = unsafe {
            libc::syscall(
                libc::SYS_sched_getattr,
                0,
                &mut attr as *mut SchedAttr,
                SIZE,
                0u32,
            )
        };
        (result == 0).then_some(attr)
    }

    /// Sets the calling thread's slice, keeping its policy (if normal) and nice value.
    #[allow(unsafe_code)]
    pub(super) fn set_slice(runtime_ns: u64) -> bool {
        let Some(mut attr) = get() else {
            return false;
        };
        if attr.policy != libc::SCHED_OTHER as u32 {
            return false; // a real-time or batch policy chosen by the user stays as it is
        }
        attr.size = SIZE;
        attr.flags = 0;
        attr.runtime = runtime_ns;
        // SAFETY: `attr` is a valid, initialised `struct sched_attr` whose `size` field gives its
        // length, and it outlives the call; pid 0 is the calling thread; the kernel only reads
        // it. The call changes scheduling parameters only, not memory the program uses.
        let result =
            unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) };
        result == 0
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub(super) fn set_slice(_runtime_ns: u64) -> bool {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Whether this kernel reports slices and takes a thread's own (6.12 and later).
    fn kernel_has_custom_slices() -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut parts = release.trim().split(['.', '-']);
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (major, minor) >= (6, 12) && current_slice_ns().is_some()
    }

    #[test]
    fn the_slice_is_set_and_inherited_by_threads_started_afterwards() {
        // A thread of its own, so that the test harness's other threads keep their slice.
        std::thread::spawn(|| {
            assert!(request_short_slice(), "sched_setattr refused the slice");
            if !kernel_has_custom_slices() {
                eprintln!("kernel before 6.12: the slice is accepted and ignored");
                return;
            }
            assert_eq!(current_slice_ns(), Some(SHORT_SLICE_NS));
            let child = std::thread::spawn(current_slice_ns)
                .join()
                .expect("child thread");
            assert_eq!(child, Some(SHORT_SLICE_NS));
        })
        .join()
        .expect("test thread");
    }

    #[test]
    fn threads_keep_the_default_slice_without_the_request() {
        if !kernel_has_custom_slices() {
            return;
        }
        let slice = std::thread::spawn(current_slice_ns).join().expect("thread");
        assert_ne!(slice, Some(SHORT_SLICE_NS));
    }
}
