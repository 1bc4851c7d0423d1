//! Flush-to-zero for subnormal floats on the CPU.
//!
//! Late in a training run, many activations and gradients decay into the subnormal range
//! (below 1.2e-38 in f32): softmax probabilities of classes the model is sure are wrong, the
//! gradients that flow back from them, and the optimiser's moment estimates. x86-64 and AArch64
//! cores handle a subnormal operand in microcode, tens to hundreds of times slower than a normal
//! one, so a CPU training run slows down exactly when it starts to converge. In the trainer's
//! default run on flex (2 cores), epochs 5-7 ran at 125, 103 and 95 images/s against 150 in the
//! first epochs; with flushing they ran at 140, 138 and 140 with the same losses to every printed
//! digit. PyTorch offers `torch.set_flush_denormal(True)` for this; [`flush_denormals`] is the
//! same switch.

/// Makes the calling thread treat subnormal floats as zero (x86-64: the MXCSR FTZ and DAZ bits;
/// AArch64: FPCR.FZ) and returns whether the CPU supports it.
///
/// Threads inherit this setting from the thread that creates them (Linux, macOS and Windows
/// copy the floating-point control register into a new thread), so call it at the top of
/// `main`, before Burn starts its worker threads. Values that would be subnormal become zero;
/// normal-range arithmetic is unchanged, so results differ only where a value is below 1.2e-38.
/// GPU backends are not affected (their kernels flush subnormals by default).
pub fn flush_denormals() -> bool {
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
        let csr = read_mxcsr() | FLUSH_TO_ZERO | DENORMALS_ARE_ZERO;
        // SAFETY: `ldmxcsr` loads MXCSR from a valid location; the value is the current one with
        // only the FTZ and DAZ mode bits added, which every x86-64 CPU supports (DAZ since the
        // Pentium 4; all x86-64 CPUs have it), so it cannot raise #GP.
        unsafe { asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags)) };
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
        // SAFETY: writing FPCR is allowed at EL0; only the FZ mode bit is added.
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
    fn subnormal_results_become_zero_here_and_in_new_threads() {
        // A fresh test thread computes subnormals normally.
        let tiny = black_box(1.0e-30_f32);
        assert!(!denormals_flushed(), "test threads start without flushing");
        assert!((tiny * black_box(1.0e-10_f32)).is_subnormal());

        assert!(flush_denormals());
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
