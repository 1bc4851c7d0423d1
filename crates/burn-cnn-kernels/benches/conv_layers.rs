//! Where a CPU training step spends its time: each of AlexNet's five convolutions (the standard
//! variant at 227 px) timed on one backend as a forward pass, an input gradient and a weight
//! gradient, next to the same layer written as im2col (strided slices) plus one matrix
//! multiplication, next to the weight gradient of the model's own convolution
//! (`burn_cnn_kernels::conv::conv2d`, which on flex is im2col + one matmul), and next to that matrix
//! multiplication alone (what the backend's gemm does with the layer's FLOPs).
//!
//! ```sh
//! cargo bench -p burn-cnn-kernels --bench conv_layers                     # flex, batch 16
//! cargo bench -p burn-cnn-kernels --bench conv_layers -- --device ndarray --batch 16 --iters 5
//! LIBTORCH_USE_PYTORCH=1 cargo bench -p burn-cnn-kernels --features alexnet-device/tch --bench conv_layers -- --device tch
//! python3 bench/pytorch_conv_layers.py --batch 16 --iters 5   # PyTorch's own convolutions
//! ```
//!
//! Each number is the median of `--iters` timed runs after one warm-up, with the device
//! synchronised before the clock is read. The gradient times are (forward + backward) minus the
//! forward, with only the input (or only the weight) requiring a gradient.

use std::time::{Duration, Instant};

use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Distribution, Slice, Tensor};

/// One convolution of the standard variant at 227 px input.
struct Layer {
    name: &'static str,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    /// Input height and width.
    size: usize,
}

const LAYERS: [Layer; 5] = [
    Layer {
        name: "conv1",
        c_in: 3,
        c_out: 96,
        kernel: 11,
        stride: 4,
        padding: 0,
        size: 227,
    },
    Layer {
        name: "conv2",
        c_in: 96,
        c_out: 256,
        kernel: 5,
        stride: 1,
        padding: 2,
        size: 27,
    },
    Layer {
        name: "conv3",
        c_in: 256,
        c_out: 384,
        kernel: 3,
        stride: 1,
        padding: 1,
        size: 13,
    },
    Layer {
        name: "conv4",
        c_in: 384,
        c_out: 384,
        kernel: 3,
        stride: 1,
        padding: 1,
        size: 13,
    },
    Layer {
        name: "conv5",
        c_in: 384,
        c_out: 256,
        kernel: 3,
        stride: 1,
        padding: 1,
        size: 13,
    },
];

impl Layer {
    fn out_size(&self) -> usize {
        (self.size + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Multiply-adds times two, for a batch of `n`.
    fn flops(&self, n: usize) -> f64 {
        let out = self.out_size();
        2.0 * (n * self.c_out * out * out * self.c_in * self.kernel * self.kernel) as f64
    }
}

/// How the layer is computed.
#[derive(Clone, Copy)]
enum Method {
    /// The backend's `conv2d` (and its gradients).
    Conv,
    /// Strided slices stacked into columns `[C_in*K*K, N*Ho*Wo]`, one matmul with the weight
    /// `[C_out, C_in*K*K]`; autodiff differentiates the slices and the matmul.
    Im2col,
    /// The model's convolution, [`burn_cnn_kernels::conv::conv2d`]: on flex, flex's forward and input
    /// gradient and an im2col + one-matmul weight gradient; Burn's `conv2d` elsewhere.
    Model,
}

/// The layer's output `[N, C_out, Ho, Wo]` by `method`.
fn forward(layer: &Layer, method: Method, x: Tensor<4>, w: Tensor<4>, b: Tensor<1>) -> Tensor<4> {
    let (k, s, p) = (layer.kernel, layer.stride, layer.padding);
    match method {
        Method::Conv => conv2d(x, w, Some(b), ConvOptions::new([s, s], [p, p], [1, 1], 1)),
        Method::Model => {
            burn_cnn_kernels::conv::conv2d(x, w, b, ConvOptions::new([s, s], [p, p], [1, 1], 1))
        }
        Method::Im2col => {
            let [n, c, _, _] = x.dims();
            let out = layer.out_size();
            let x = x.permute([1, 0, 2, 3]); // [C, N, H, W]
            let x = if p > 0 {
                x.pad((p, p, p, p), PadMode::Constant(0.0)) // [C, N, H+2p, W+2p]
            } else {
                x
            };
            let span = |i: usize| {
                Slice::new(
                    i as isize,
                    Some((i + s * (out - 1) + 1) as isize),
                    s as isize,
                )
            };
            let taps: Vec<Tensor<4>> = (0..k * k)
                .map(|t| {
                    x.clone()
                        .slice([Slice::from(..), Slice::from(..), span(t / k), span(t % k)])
                })
                .collect(); // K*K x [C, N, Ho, Wo]
            let cols: Tensor<5> = Tensor::stack(taps, 1); // [C, K*K, N, Ho, Wo]
            let cols: Tensor<2> = cols.reshape([c * k * k, n * out * out]); // [C*K*K, N*Ho*Wo]
            let [c_out, ..] = w.dims();
            let w: Tensor<2> = w.reshape([c_out, c * k * k]); // [C_out, C*K*K]
            let y = w.matmul(cols); // [C_out, N*Ho*Wo]
            let y = y + b.reshape([c_out, 1]); // [C_out, N*Ho*Wo]
            let y: Tensor<4> = y.reshape([c_out, n, out, out]); // [C_out, N, Ho, Wo]
            y.permute([1, 0, 2, 3]) // [N, C_out, Ho, Wo]
        }
    }
}

/// Which gradients a timed run computes.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Forward,
    InputGrad,
    WeightGrad,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(device: &Device, iters: usize, mut f: impl FnMut()) -> Duration {
    let sync = || device.sync().expect("device sync");
    f();
    sync();
    let times = (0..iters)
        .map(|_| {
            let start = Instant::now();
            f();
            sync();
            start.elapsed()
        })
        .collect();
    median(times)
}

fn run_pass(
    layer: &Layer,
    method: Method,
    pass: Pass,
    n: usize,
    device: &Device,
    iters: usize,
) -> Duration {
    let ad = device.clone().autodiff();
    let dev = if pass == Pass::Forward { device } else { &ad };
    let normal = Distribution::Normal(0.0, 1.0);
    let x = Tensor::<4>::random([n, layer.c_in, layer.size, layer.size], normal, dev);
    let w = Tensor::<4>::random(
        [layer.c_out, layer.c_in, layer.kernel, layer.kernel],
        normal,
        dev,
    )
    .mul_scalar(0.01);
    let b = Tensor::<1>::zeros([layer.c_out], dev);
    let out = layer.out_size();
    let g = Tensor::<4>::random([n, layer.c_out, out, out], normal, dev);
    let x = if pass == Pass::InputGrad {
        x.require_grad()
    } else {
        x
    };
    let w = if pass == Pass::WeightGrad {
        w.require_grad()
    } else {
        w
    };
    time(dev, iters, || {
        let y = forward(layer, method, x.clone(), w.clone(), b.clone());
        match pass {
            Pass::Forward => drop(y),
            _ => {
                let grads = (y * g.clone()).sum().backward();
                let wanted = if pass == Pass::InputGrad { &x } else { &w };
                let grad = wanted.grad(&grads).expect("gradient");
                assert_eq!(grad.dims(), wanted.dims());
            }
        }
    })
}

/// The matmul of the im2col formulation alone: `[C_out, C_in*K*K] x [C_in*K*K, N*Ho*Wo]`.
fn run_matmul(layer: &Layer, n: usize, device: &Device, iters: usize) -> Duration {
    let k2 = layer.c_in * layer.kernel * layer.kernel;
    let out = layer.out_size();
    let normal = Distribution::Normal(0.0, 1.0);
    let a = Tensor::<2>::random([layer.c_out, k2], normal, device);
    let b = Tensor::<2>::random([k2, n * out * out], normal, device);
    time(device, iters, || drop(a.clone().matmul(b.clone())))
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let device_name = arg(&args, "--device").unwrap_or_else(|| "flex".into());
    let n: usize = arg(&args, "--batch").map_or(16, |v| v.parse().expect("--batch N"));
    let iters: usize = arg(&args, "--iters").map_or(5, |v| v.parse().expect("--iters N"));
    let device = alexnet_device::parse_device(&device_name).expect("a compiled-in device");

    println!("{device_name}, batch {n}, median of {iters}; ms (GFLOP/s)");
    println!(
        "{:<6} {:>7} | {:>15} {:>15} {:>15} | {:>15} {:>15} {:>15} | {:>15} | {:>15}",
        "layer",
        "GFLOP",
        "conv fwd",
        "conv dX",
        "conv dW",
        "im2col fwd",
        "im2col dX",
        "im2col dW",
        "model dW",
        "gemm alone"
    );
    let mut totals = [0.0f64; 8];
    for layer in &LAYERS {
        let gflop = layer.flops(n) / 1e9;
        let cell = |d: Duration| {
            format!(
                "{:>7.1} ({:>5.0})",
                d.as_secs_f64() * 1e3,
                gflop / d.as_secs_f64()
            )
        };
        let mut row = Vec::new();
        for method in [Method::Conv, Method::Im2col] {
            let fwd = run_pass(layer, method, Pass::Forward, n, &device, iters);
            let dx = if layer.name == "conv1" {
                None // the image needs no gradient in training
            } else {
                Some(
                    run_pass(layer, method, Pass::InputGrad, n, &device, iters).saturating_sub(fwd),
                )
            };
            let dw =
                run_pass(layer, method, Pass::WeightGrad, n, &device, iters).saturating_sub(fwd);
            row.extend([Some(fwd), dx, Some(dw)]);
        }
        let model_fwd = run_pass(layer, Method::Model, Pass::Forward, n, &device, iters);
        let model_dw = run_pass(layer, Method::Model, Pass::WeightGrad, n, &device, iters);
        row.push(Some(model_dw.saturating_sub(model_fwd)));
        row.push(Some(run_matmul(layer, n, &device, iters)));
        for (total, t) in totals.iter_mut().zip(&row) {
            *total += t.map_or(0.0, |t| t.as_secs_f64() * 1e3);
        }
        let cells: Vec<String> = row
            .into_iter()
            .map(|t| t.map_or(format!("{:>15}", "-"), cell))
            .collect();
        println!(
            "{:<6} {:>7.2} | {} {} {} | {} {} {} | {} | {}",
            layer.name,
            gflop,
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            cells[7]
        );
    }
    let t: Vec<String> = totals.iter().map(|t| format!("{t:>7.1}        ")).collect();
    println!(
        "{:<6} {:>7} | {} {} {} | {} {} {} | {} | {}",
        "total", "", t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]
    );
}
