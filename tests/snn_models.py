"""Inline models shared by the tests (valid ones, so that tests work without examples/)."""
from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent

DIGITS = """\
model digits
time { dt = 1 ms; steps = 25 }
input pixels[64] = rate(gain = 1.0)
layer hidden = dense(pixels, 128) with LIF(tau_mem = 10 ms, reset = subtract)
layer out = dense(hidden, 10) with LIF(tau_mem = 10 ms)
output out = count
hardware { weights = fixed<8,6>  state = fixed<16,8> }
"""

CONV = """\
# A small convolutional network on 1x12x12 images.
model conv_net
time { dt = 0.5 ms; steps = 20 }
input image[1, 12, 12] = latency(threshold = 0.05)
layer c1 = conv2d(image, 4, 3, stride = 1, padding = 1, bias = true)
    with CubaLIF(tau_mem = 8 ms, tau_syn = 2 ms, threshold = 0.8)
layer p1 = sumpool(c1, 2) with IF(threshold = 2, reset = zero)
layer c2 = conv2d(p1, 8, [3, 3], stride = [2, 2]) with ALIF(tau_mem = 10 ms, tau_adapt = 100 ms,
                                                           beta = 0.5)
layer p2 = avgpool(c2, kernel = [1, 1]) with IF
layer flat = flatten(p2)
layer out = dense(flat, 5, delay = 2 ms) with LIF(tau_mem = 5 ms, refractory = 2, leak = shift)
output out = membrane
train { loss = cross_entropy; optimizer = adamw; lr = 0.002; epochs = 3; batch_size = 32
        surrogate = atan(alpha = 2.5); seed = 7; tbptt = 10 ms; schedule = cosine }
hardware { weights = fixed<6,4>; membrane = fixed<16,10>; lanes = 8; clock = 25 MHz
           device = "ecp5-25k"; decay = shift }
"""

CUSTOM = """\
model custom_neurons
time { dt = 1 ms; steps = 50 }

neuron Adex {
    param tau: time = 20 ms
    param tau_w = 100 ms
    param a = 0.5
    param v_th: real = 1.0
    param delta = 0.1
    state v = 0
    state w = 0
    update {
        v = v * decay(tau) + (1 - decay(tau)) * (input - w) + delta * exp((v - v_th) / delta) * dt / tau
        w = w * decay(tau_w) + a * v * dt / tau_w
    }
    spike when v > v_th and not (w > 10)
    on spike { v = 0; w = w + 0.1 }
}

neuron Clip {
    state u = 0
    update { u = clip(u + input, -1, 2); u = max(u, 0) - min(abs(u), 0) }
    spike when u >= 1 or u == 0.5
    on spike { u = u - 1 }
}

input events[32] = delta(threshold = 0.2)
input bias[8] = direct(scale = 0.5)
layer r = recurrent(events, 16, surrogate = triangle(width = 0.5)) with Adex(tau = 15 ms, a = 0.2)
layer h = dense(r, 8, bias = true) with Clip
layer o = dense(h, 2) with LIF(tau_mem = 10 ms)
layer b = dense(bias, 2) with IF
output o = first_spike
output b = count
train { surrogate = superspike; loss = first_spike; dataset = "npz:shd.npz"; spike_reg = 0.01 }
"""

INLINE_MODELS = {"digits": DIGITS, "conv": CONV, "custom": CUSTOM}


def example_files() -> list[pathlib.Path]:
    """The files of examples/ (being written alongside the tests; may be empty)."""
    return sorted((ROOT / "examples").glob("*.snn"))
