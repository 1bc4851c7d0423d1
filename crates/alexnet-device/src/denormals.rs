//! Flush-to-zero for subnormal floats on the CPU.
//!
//! Late in a training run many activations, gradients and optimiser moments decay below 1.2e-38
//! (f32's subnormal range), which x86-64 and AArch64 cores handle in slow microcode, so a CPU run
//! slows down as it converges (measured in docs/training.md). [`flush_denormals`] is PyTorch's
//! `torch.set_flush_denormal(True)`.

/// Makes the calling thread treat subnormal floats as zero (x86-64: the MXCSR FTZ and DAZ bits;
/// AArch64: FPCR.FZ) and returns whether the thread now does. On x86-64 it always does (every
/// x86-64 CPU has both bits); on other architectures than x86-64 and AArch64 this does nothing
/// and returns `false`.
///
/// On Linux, a new thread starts with the floating-point control register of the thread that
/// creates it (a unit test checks this), so one call at the top of `main`, before Burn starts its
/// worker threads, covers the whole process. Other systems may start threads with the default
/// mode, in which case only the calling thread flushes. Values that would be subnormal become
/// zero; normal-range arithmetic is unchanged, so results differ only where a value is below
/// 1.2e-38. GPU backends are unaffected: this sets a CPU register.
///
/// # Safety
///
/// Rust and LLVM compile floating-point code assuming the default floating-point environment;
/// Rust's documentation of `_mm_setcsr` calls changing the denormal mode "immediate Undefined
/// Behavior" (the `no_denormals` crate carries the same warning). In practice the consequence is that arithmetic the compiler folds at build time keeps its
/// subnormal results while the same arithmetic at run time flushes them. The caller must not
/// rely on subnormal values being produced or preserved anywhere in the program after this call
/// (no code that, for example, tests `is_subnormal()` on computed values or needs gradual
/// underflow for correctness). Deep-learning code does not: PyTorch, TensorFlow and oneDNN set
/// these same bits for speed.
#[allow(unsafe_code)]
pub unsafe fn flush_denormals() -> bool {
    imp::flush_denormals()
}

/// Whether the calling thread currently flushes subnormal floats to zero.
pub fn denormals_flushed() -> bool {
    imp::denormals_flushed()
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    use std::arch::asm;

    /// MXCSR bit 15: results that would be subnormal are written as zero.
    const FLUSH_TO_ZERO: u32 = 1 << 15;
    /// MXCSR bit 6: subnormal inputs are read as zero.
    const DENORMALS_ARE_ZERO: u32 = 1 << 6;

    fn read_mxcsr() -> u32 {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores the 32-bit MXCSR register into the given, valid, aligned
        // location and has no other effect. SSE is part of the x86-64 baseline.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
        csr
    }

    pub fn flush_denormals() -> bool {
        let mut csr: u32 = 0;
        // SAFETY: one block reads MXCSR into a valid, aligned local, sets only the FTZ and DAZ
        // mode bits there and loads it back. Every x86-64 CPU supports both bits, so `ldmxcsr`
        // cannot raise #GP. `or` changes the arithmetic flags, hence no `preserves_flags`. That
        // changing the mode is sound for the program is the caller's obligation (see the
        // public function's `# Safety`).
        unsafe {
            asm!(
                "stmxcsr [{csr}]",
                "or dword ptr [{csr}], {bits:e}",
                "ldmxcsr [{csr}]",
                csr = in(reg) &mut csr,
                bits = in(reg) FLUSH_TO_ZERO | DENORMALS_ARE_ZERO,
                options(nostack),
            )
        };
        denormals_flushed()
    }

    pub fn denormals_flushed() -> bool {
        read_mxcsr() & (FLUSH_TO_ZERO | DENORMALS_ARE_ZERO) == FLUSH_TO_ZERO | DENORMALS_ARE_ZERO
    }
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod imp {
    use std::arch::asm;

    /// FPCR bit 24 (FZ): subnormal inputs and results are flushed to zero.
    const FLUSH_TO_ZERO: u64 = 1 << 24;

    fn read_fpcr() -> u64 {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effects and is allowed at EL0.
        unsafe { asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        fpcr
    }

    pub fn flush_denormals() -> bool {
        let fpcr = read_fpcr() | FLUSH_TO_ZERO;
        // SAFETY: writing FPCR is allowed at EL0; only the FZ mode bit is added. That changing
        // the mode is sound for the program is the caller's obligation (see the public
        // function's `# Safety`).
        unsafe { asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        denormals_flushed()
    }

    pub fn denormals_flushed() -> bool {
        read_fpcr() & FLUSH_TO_ZERO != 0
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    pub fn flush_denormals() -> bool {
        false
    }

    pub fn denormals_flushed() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[allow(unsafe_code)]
    fn subnormal_results_become_zero_here_and_in_new_threads() {
        // A fresh test thread computes subnormals normally.
        let tiny = black_box(1.0e-30_f32);
        assert!(!denormals_flushed(), "test threads start without flushing");
        assert!((tiny * black_box(1.0e-10_f32)).is_subnormal());

        // SAFETY: nothing in this test process relies on subnormal results after this point;
        // the assertions below expect them to be flushed.
        assert!(unsafe { flush_denormals() });
        assert!(denormals_flushed());
        assert_eq!(tiny * black_box(1.0e-10_f32), 0.0);
        // Normal-range arithmetic is untouched.
        assert_eq!(black_box(1.5_f32) * black_box(2.0_f32), 3.0);

        // Threads spawned afterwards inherit the mode (this is what makes one call at the top
        // of `main` cover Burn's worker threads).
        let child = std::thread::spawn(|| {
            (
                denormals_flushed(),
                black_box(1.0e-30_f32) * black_box(1.0e-10_f32),
            )
        });
        let (flushed, product) = child.join().expect("child thread");
        assert!(flushed);
        assert_eq!(product, 0.0);
    }
}
