# ---------------------------------------------------------------------------------------------
# Runtime of the generated module (compiler/export/torch_runtime.py, the same in every export).
# It reads the tables above: ARCH, TENSORS, LAYERS, PARAMS, INPUTS, OUTPUTS.
#
# Values flow through the network twice at once:
#  - codes: the integer activation codes cimsim computes (float64 tensors holding integers),
#    produced by an emulation of cimsim's arithmetic (docs/quantization.md for the layers,
#    docs/functional-model.md for the crossbar: DAC steps, cell slices, weight flip, ADC range
#    and saturation, shift-and-add, corrections; and its non-idealities);
#  - a differentiable float surrogate (fake-quantized weights and biases, ideal MVM).
# Each layer returns  surrogate + (codes * scale - surrogate).detach():  its value is the
# emulated hardware output, its gradient the surrogate's (straight-through estimators for
# the rounding of weights, biases and activations, for the ADC and for the noise).
# ADC saturation (clipped STE): a conversion clipped at 0 or 2^bits - 1 passes no gradient.
# Per output element the surrogate's MVM gradient is scaled by the share of its conversions'
# ideal magnitude (|shift-and-add weight| * column sum) that converted inside the range
# (HwModel.adc_clip_ste, default True; docs/training.md). Values are unaffected.
# ---------------------------------------------------------------------------------------------

_F64 = torch.float64
_I64 = torch.int64


def _round_half_away(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def _quantize_multiplier(m):
    """qmath::quantize_multiplier on a float64 tensor of positive reals: (multiplier, shift) int64."""
    frac, exp = torch.frexp(m)
    mult = torch.floor(frac * 2.0 ** 31 + 0.5).to(_I64)
    exp = exp.to(_I64)
    carry = mult == 2 ** 31
    mult = torch.where(carry, mult // 2, mult)
    exp = torch.where(carry, exp + 1, exp)
    shift = 31 - exp
    small = shift > 62
    mult = torch.where(small, torch.bitwise_right_shift(mult, torch.clamp(shift - 62, max=63)), mult)
    shift = torch.where(small, torch.full_like(shift, 62), shift)
    big = shift < 0
    mult = torch.where(big, torch.full_like(mult, 2 ** 31 - 1), mult)
    shift = torch.where(big, torch.zeros_like(shift), shift)
    zero = ~(m > 0)
    return torch.where(zero, torch.zeros_like(mult), mult), torch.where(zero, torch.zeros_like(shift), shift)


def _requant_multiplier(m, shift_max):
    """quant::requant_multiplier: quantize_multiplier limited to shifts <= shift_max."""
    shift_max = min(max(shift_max, 0), 62)
    mult, shift = _quantize_multiplier(m)
    over = (mult != 0) & (shift > shift_max)
    alt = torch.floor(m * 2.0 ** shift_max + 0.5).to(_I64)
    return torch.where(over, alt, mult), torch.where(over, torch.full_like(shift, shift_max), shift)


def _round_shift(x, shift):
    """qmath::round_shift on int64 tensors (round half up, arithmetic shift)."""
    one = torch.ones_like(x)
    half = torch.where(shift > 0, torch.bitwise_left_shift(one, torch.clamp(shift - 1, min=0)), torch.zeros_like(x))
    return torch.where(shift > 0, torch.bitwise_right_shift(x + half, shift), x)


def _requantize(acc, mult, shift, qmin, qmax):
    """qmath::requantize: clamp(round_shift(acc * multiplier, shift)); acc int64, result float64 codes."""
    return torch.clamp(_round_shift(acc * mult, shift), qmin, qmax).to(_F64)


def _clamp_int32(x):
    return torch.clamp(x, -2.0 ** 31, 2.0 ** 31 - 1)


def _replace_forward(ctx, surrogate, exact):
    return exact.detach().clone()


def _replace_backward(ctx, grad):
    return grad, None


class _Replace(torch.autograd.Function):
    """Value of `exact`, gradient of `surrogate` (bit-exact, unlike s + (e - s).detach())."""
    forward = staticmethod(_replace_forward)
    backward = staticmethod(_replace_backward)


def _ste(surrogate, exact):
    if not surrogate.requires_grad:
        return exact.detach()
    return _Replace.apply(surrogate, exact)


class Crossbar:
    """cimsim's crossbar tile arithmetic (models/kernels/crossbar_kernel.cpp), vectorized over MVMs."""

    def __init__(self, arch):
        self.a = arch
        self.lmax = (1 << arch["cell_bits"]) - 1
        self.steps = -(-arch["activation_bits"] // arch["dac_bits"])
        bw, c = arch["weight_bits"], arch["cell_bits"]
        if arch["encoding"] == "offset":
            self.slices = -(-bw // c)
            self.cells = self.slices
        else:
            self.slices = -(-(bw - 1) // c)
            self.cells = 2 * self.slices
        self.analog = (arch["programming_noise_sigma"] > 0 or arch["read_noise_sigma"] > 0
                       or arch["conductance_levels"] > 0)
        ni_any = (self.analog or arch["stuck_on_fraction"] > 0 or arch["stuck_off_fraction"] > 0
                  or arch["adc_offset_lsb"] != 0 or arch["adc_gain_error"] != 0)
        # Lossless ADC and ideal devices: the tile computes sum_r W x exactly (the kExact path).
        self.exact = arch["adc_lossless"] and not ni_any

    def _slice(self, wc, p):
        """Cell levels of physical column p (0 .. cells-1) of every weight: slicing::cell_level."""
        a, c = self.a, self.a["cell_bits"]
        if a["encoding"] == "offset":
            u = wc + 2 ** (a["weight_bits"] - 1)
            return torch.remainder(torch.floor(u / 2 ** (p * c)), 2 ** c), float(2 ** (p * c))
        s = self.slices
        mag = torch.clamp(wc, min=0) if p < s else torch.clamp(-wc, min=0)
        sl = p if p < s else p - s
        cw = float(2 ** (sl * c)) if p < s else -float(2 ** (sl * c))
        return torch.remainder(torch.floor(mag / 2 ** (sl * c)), 2 ** c), cw

    def tile(self, u, wc, input_offset, noise, gen, adc_tiles=None):
        """One row tile: u [B, R] unsigned input codes, wc [R, M] weight codes (float64 integers);
        adc_tiles: the layer's tuned [[rows, adc_full_scale, adc_offset_lsb], ...] (--tuned).
        Returns the tile's int32 outputs [B, M] (float64) and, for the clipped STE, the
        magnitudes [B, M] of its conversions inside the ADC range and of all of them."""
        a = self.a
        B, R = u.shape
        M = wc.shape[1]
        if self.exact:
            return _clamp_int32(u @ wc - input_offset * wc.sum(0)), None, None
        lmax = float(self.lmax)
        levels, sweights = [], []
        u_coef = torch.full((M,), -float(2 ** (a["weight_bits"] - 1)) if a["encoding"] == "offset" else 0.0,
                            dtype=_F64)
        for p in range(self.cells):
            g, cw = self._slice(wc, p)
            if a["weight_flip"]:
                flip = 2 * g.sum(0) > R * lmax
            else:
                flip = torch.zeros(M, dtype=torch.bool)
            g = torch.where(flip, lmax - g, g)
            levels.append(g)
            sweights.append(torch.where(flip, torch.full((M,), -cw, dtype=_F64), torch.full((M,), cw, dtype=_F64)))
            u_coef = u_coef + torch.where(flip, torch.full((M,), cw * lmax, dtype=_F64), torch.zeros(M, dtype=_F64))
        # Cells [R, cells*M], physical column order (slice, weight column) here.
        L = torch.cat(levels, dim=1)
        n = a["conductance_levels"]
        if n > 0:
            L = torch.floor(L / lmax * (n - 1) + 0.5) / (n - 1) * lmax
        if noise and a["programming_noise_sigma"] > 0:
            zero_level = -a["g_min_us"] / (a["g_max_us"] - a["g_min_us"]) * lmax
            z = torch.randn(L.shape, generator=gen, dtype=_F64)
            L = torch.clamp(L + a["programming_noise_sigma"] * lmax * z, min=zero_level)
        if noise and (a["stuck_on_fraction"] > 0 or a["stuck_off_fraction"] > 0):
            q = torch.rand(L.shape, generator=gen, dtype=_F64)
            on, off = a["stuck_on_fraction"], a["stuck_off_fraction"]
            L = torch.where(q < on, torch.full_like(L, lmax), torch.where(q < on + off, torch.zeros_like(L), L))
        d = a["dac_bits"]
        T = self.steps
        # Column sums per step in cell-level units, [B, cells*M]. float32 (as the simulator's
        # analog path) when integer sums stay exact in it, i.e. below 2^24; else float64.
        small = R * (2 ** d - 1) * lmax < 2 ** 24
        ct = torch.float32 if small else _F64
        ui = u.to(_I64)
        V = [torch.bitwise_and(torch.bitwise_right_shift(ui, k * d), 2 ** d - 1).to(ct) for k in range(T)]
        # One product for all steps (fewer, larger matrix products).
        I = list((torch.cat(V, 0) @ L.to(ct)).to(_F64).split(B, 0))
        if noise and a["read_noise_sigma"] > 0:
            # Per cell and MVM n ~ N(0, s^2) shared by the steps: step k of a column gets
            # sum_r v_k[r] n[r]; covariance s^2 V V^T = s^2 Rq^T Rq with V^T = Q Rq.
            s = a["read_noise_sigma"] * lmax
            Vm = torch.stack(V, dim=1).to(_F64)  # [B, T, R]
            Rq = torch.linalg.qr(Vm.transpose(1, 2), mode="r")[1]  # [B, min(R,T), T]
            z = torch.randn((B, Rq.shape[1], L.shape[1]), generator=gen, dtype=_F64)
            N = s * (Rq.transpose(1, 2) @ z)  # [B, T, cells*M]
            I = [I[k] + N[:, k, :] for k in range(T)]
        # ADC (models/kernels/adc_model.h).
        max_code = float(2 ** a["adc_bits"] - 1)
        # The tile's tuned figures (TileDesc::adc_full_scale, adc_offset_lsb) when exported
        # with --tuned; else what the compiler writes: full scale 0 (the worst case), offset 0.
        full_scale, correction = 0.0, 0.0
        found = False
        for rows, fs, corr in (adc_tiles or []):
            if rows == R:
                full_scale, correction, found = fs, corr, True
        if adc_tiles is not None and not found and not a["adc_lossless"]:
            raise ValueError("--tuned program has no tile of %d rows for this layer" % R)
        if a["adc_lossless"] or a["adc_range"] == "lsb_aligned":
            step = 1.0
        elif a["adc_range"] == "calibrated" and full_scale > 0:
            step = full_scale / max_code  # kernels::adc_full_scale / max_code, in double
        else:
            step = float(R) * float(2 ** d - 1) * lmax / max_code
        gain = 1.0 + a["adc_gain_error"]
        # Net offset (models/kernels/adc_model.h): the device's minus the tile's correction,
        # formed once in double as the simulator does.
        off = a["adc_offset_lsb"] - correction

        def convert(col):
            x = col * gain / step + off
            if a["adc_lossless"]:
                return x * step, None
            code = torch.floor(x + 0.5)
            return torch.clamp(code, 0.0, max_code) * step, (code >= 0.0) & (code <= max_code)

        conv = [convert(i) for i in I]
        dec = [c[0] for c in conv]
        acc = torch.zeros((B, M), dtype=_F64)
        # Same summation order as the C++ model (it matters only for non-integer decodes):
        # bit-plane path slice-major, analog path step-major.
        order = ([(k, p) for k in range(T) for p in range(self.cells)] if self.analog
                 else [(k, p) for p in range(self.cells) for k in range(T)])
        for k, p in order:
            acc = acc + (sweights[p] * float(2 ** (k * d))) * dec[k][:, p * M:(p + 1) * M]
        U = u.sum(1, keepdim=True)
        correction = u_coef * U - input_offset * wc.sum(0)
        y = acc + correction
        if a["adc_lossless"] or step != 1.0:
            y = torch.floor(y + 0.5)
        kept = total = None
        if not a["adc_lossless"]:
            # Clipped STE: each conversion's ideal magnitude, and the part of it in range.
            kept = torch.zeros((B, M), dtype=_F64)
            total = torch.zeros((B, M), dtype=_F64)
            for k in range(T):
                for p in range(self.cells):
                    mag = abs(float(2 ** (k * d))) * torch.abs(sweights[p]) * torch.abs(I[k][:, p * M:(p + 1) * M])
                    total = total + mag
                    kept = kept + torch.where(conv[k][1][:, p * M:(p + 1) * M], mag, torch.zeros_like(mag))
        return _clamp_int32(torch.clamp(y, -2.0 ** 62, 2.0 ** 62)), kept, total

    def mvm(self, x, wc, input_unsigned, noise, gen, adc_tiles=None):
        """x [B, K] input codes, wc [K, M] weight codes: the row tiles of crossbar.rows rows,
        summed with int32 saturation as the cores do. Returns [B, M] float64 integers and the
        clipped-STE gradient factor [B, M] in [0, 1] (None when no conversion can clip)."""
        off = 0.0 if input_unsigned else float(2 ** (self.a["activation_bits"] - 1))
        u = x + off
        R = self.a["rows"]
        total = kept_sum = mag_sum = None
        for r0 in range(0, wc.shape[0], R):
            y, kept, mag = self.tile(u[:, r0:r0 + R], wc[r0:r0 + R], off, noise, gen, adc_tiles)
            total = y if total is None else _clamp_int32(total + y)
            if kept is not None:
                kept_sum = kept if kept_sum is None else kept_sum + kept
                mag_sum = mag if mag_sum is None else mag_sum + mag
        if kept_sum is None:
            return total, None
        # An output whose conversions all read 0 has nothing to clip: factor 1.
        factor = torch.where(mag_sum > 0, kept_sum / torch.where(mag_sum > 0, mag_sum, torch.ones_like(mag_sum)),
                             torch.ones_like(mag_sum))
        return total, factor


def _decode_params():
    out = []
    for p in PARAMS:
        raw = base64.b64decode(p["data"])
        t = torch.frombuffer(bytearray(raw), dtype=torch.float32).clone()
        out.append(t.reshape(p["shape"]))
    return out


class ConvLayer(torch.nn.Module):
    """A quantized matrix layer (Conv, Gemm, MatMul or per-channel affine) on crossbars."""

    def __init__(self, spec, params):
        super().__init__()
        self.s = spec
        self.weight = params[spec["weight"]] if spec["weight"] is not None else None
        self.bias = params[spec["bias"]] if spec.get("bias") is not None else None
        self.adc_clip_ste = True  # HwModel.adc_clip_ste sets it on every layer

    def weight_matrix(self):
        """The layer's real weights [M, C/group, kh, kw] (FC: [N, K]) and bias [M] (float32)."""
        s = self.s
        W = self.weight
        if s["op"] == "Gemm":
            W = W if s["trans_b"] else W.t()
            if s["alpha"] != 1.0:
                W = W * s["alpha"]
        elif s["op"] == "MatMul":
            W = W.t()
        M = s["out_channels"]
        if self.bias is None:
            b = torch.zeros(M, dtype=torch.float32)
        else:
            b = self.bias.reshape(-1)
            if s["op"] == "Gemm":
                if b.numel() == 1:
                    b = b.expand(M)
                if s["beta"] != 1.0:
                    b = b * s["beta"]
        return W, b

    def quantized(self, s_in, s_out):
        """Weight codes, fake-quantized weights and bias, bias codes and requant multipliers,
        exactly as quant::quantize() derives them from the current float weights."""
        s = self.s
        if s["weight"] is None:
            # Fixed layer (per-channel affine): the quantizer's codes and multipliers as they are.
            f = s["fixed"]
            codes = torch.tensor(f["codes"], dtype=_F64).reshape(s["frozen_shape"])
            ws = torch.tensor(f["weight_scale"], dtype=torch.float32)
            unit = s_in * ws.to(_F64)
            bcode = torch.tensor(f["bias"], dtype=_F64)
            w_fq = (codes * ws.to(_F64).reshape(-1, 1, 1, 1)).to(torch.float32)
            return (codes, w_fq, (bcode * unit).to(torch.float32), bcode,
                    torch.tensor(f["mult"], dtype=_I64), torch.tensor(f["shift"], dtype=_I64))
        W, b = self.weight_matrix()
        M = W.shape[0]
        wq = float(2 ** (ARCH["weight_bits"] - 1) - 1)
        Wf = W.reshape(M, -1)
        if ARCH["weight_granularity"] == "per_channel":
            mx = Wf.detach().abs().amax(dim=1)
        else:
            mx = Wf.detach().abs().max().expand(M)
        ws = torch.where(mx > 0, mx / torch.tensor(wq, dtype=torch.float32), torch.zeros_like(mx))
        safe = torch.where(ws > 0, ws, torch.ones_like(ws))
        codes = torch.where((ws > 0)[:, None], torch.clamp(_round_half_away((Wf.detach() / safe[:, None]).to(_F64)),
                                                           -wq, wq), torch.zeros(Wf.shape, dtype=_F64))
        # An all-zero channel gets the scale that gives its bias 8 fractional bits (quantizer.cpp).
        zero_scale = torch.tensor(s_out / s_in / 256.0, dtype=_F64).to(torch.float32)
        ws = torch.where(ws > 0, ws, zero_scale.expand(M))
        unit = s_in * ws.to(_F64)
        bcode = _round_half_away(b.detach().to(_F64) / unit)
        mult, shift = _requant_multiplier(unit / s_out, ARCH["requant_shift_max"])
        w_fq = _ste(W, (codes * ws[:, None].to(_F64)).to(torch.float32).reshape(W.shape))
        b_fq = _ste(b, (bcode * unit).to(torch.float32))
        return codes.reshape(W.shape), w_fq, b_fq, bcode, mult, shift

    def forward(self, x_real, x_codes, tin, tout, xbar, noise, gen):
        s = self.s
        codes, w_fq, b_fq, bcode, mult, shift = self.quantized(tin["scale"], tout["scale"])
        N = x_codes.shape[0]
        M = s["out_channels"]
        if s["is_fc"]:
            # FC: rows in (y, x, c) order when the input is a flattened {C,H,W} plane (mapping.md).
            C, H, Wd = s["plane"]
            xc = x_codes.reshape(N, C, H, Wd).permute(0, 2, 3, 1).reshape(N, -1)
            wm = codes.reshape(M, C, H, Wd).permute(0, 2, 3, 1).reshape(M, -1).t()
            acc, factor = xbar.mvm(xc, wm, tin["unsigned"], noise, gen, s.get("adc_tiles"))
            y_mvm = F.linear(x_real.reshape(N, -1), w_fq.reshape(M, -1))
        else:
            kh, kw = s["kernel"]
            pt, pl, pb, pr = s["pads"]
            G = s["group"]
            flat = x_codes.dim() == 2  # an {F} tensor is a 1x1 plane of F channels
            if flat:
                x_codes = x_codes.reshape(N, -1, 1, 1)
                x_real = x_real.reshape(N, -1, 1, 1)
            xp = F.pad(x_codes, (pl, pr, pt, pb))
            OH, OW = (tout["shape"][1], tout["shape"][2]) if len(tout["shape"]) == 3 else (1, 1)
            cols = F.unfold(xp, (kh, kw), dilation=tuple(s["dilations"]), stride=tuple(s["strides"]))
            C = x_codes.shape[1]
            L = cols.shape[2]
            cols = cols.reshape(N, C, kh * kw, L)  # [N, C, tap, L]
            Cg, Mg = C // G, M // G
            wt = codes.permute(2, 3, 1, 0).reshape(kh * kw, Cg, M)  # [tap, Cg, M]
            out = torch.zeros((N * L, M), dtype=_F64)
            fac = torch.ones((N * L, M), dtype=_F64)
            P = s["groups_per_block"]
            for g0 in range(0, G, P):
                ng = min(P, G - g0)
                c0, cin, m0, mout = g0 * Cg, ng * Cg, g0 * Mg, ng * Mg
                xb = cols[:, c0:c0 + cin].permute(0, 3, 2, 1).reshape(N * L, kh * kw * cin)
                if G == 1:
                    wb = wt.reshape(kh * kw * Cg, M)
                else:
                    wb = torch.zeros((kh * kw, cin, mout), dtype=_F64)
                    for g in range(ng):
                        wb[:, g * Cg:(g + 1) * Cg, g * Mg:(g + 1) * Mg] = wt[:, :, m0 + g * Mg:m0 + (g + 1) * Mg]
                    wb = wb.reshape(kh * kw * cin, mout)
                out[:, m0:m0 + mout], f = xbar.mvm(xb, wb, tin["unsigned"], noise, gen, s.get("adc_tiles"))
                if f is not None:
                    fac[:, m0:m0 + mout] = f
            acc = out.reshape(N, L, M).permute(0, 2, 1).reshape(N, M, OH, OW)
            factor = fac.reshape(N, L, M).permute(0, 2, 1).reshape(N, M, OH, OW)
            y_mvm = F.conv2d(F.pad(x_real, (pl, pr, pt, pb)), w_fq, None, stride=tuple(s["strides"]),
                             dilation=tuple(s["dilations"]), groups=G)
            if flat:
                acc, y_mvm, factor = acc.reshape(N, M), y_mvm.reshape(N, M), factor.reshape(N, M)
        shape = (1, M) + (1,) * (acc.dim() - 2)
        if self.adc_clip_ste and factor is not None and y_mvm.requires_grad:
            # Clipped STE: same value, gradient scaled by the in-range share (see the top).
            f32 = factor.to(y_mvm.dtype).detach()
            y_mvm = y_mvm.detach() + f32 * (y_mvm - y_mvm.detach())
        y_sur = y_mvm + b_fq.reshape(shape)
        acc = acc.to(_I64) + bcode.to(_I64).reshape(shape)
        out_codes = _requantize(acc, mult.reshape(shape), shift.reshape(shape), tout["qmin"], tout["qmax"])
        lo, hi = tout["qmin"] * tout["scale"], tout["qmax"] * tout["scale"]
        return out_codes, _ste(torch.clamp(y_sur, lo, hi), out_codes.to(torch.float32) * tout["scale"])


def _window_out(size, pad0, pad1, k, dil, stride, want):
    """Extra end padding so that an unfold yields `want` windows (pools with ceil_mode)."""
    span = (k - 1) * dil + 1
    have = size + pad0 + pad1
    need = (want - 1) * stride + span
    return max(0, need - have)


class HwModel(torch.nn.Module):
    """The quantized network as cimsim runs it on ARCH; trainable with noise (see the header)."""

    def __init__(self, seed=None):
        super().__init__()
        init = _decode_params()
        self.params = torch.nn.ParameterList([torch.nn.Parameter(t) for t in init])
        self.param_names = [p["name"] for p in PARAMS]
        self.xbar = Crossbar(ARCH)
        self.noise = None  # None: noise in train mode only; True/False forces it
        self.gen = torch.Generator()
        self.gen.manual_seed(ARCH["seed"] if seed is None else seed)
        self.apply_host_softmax = True
        layers = []
        for spec in LAYERS:
            if spec["kind"] == "conv":
                layers.append(ConvLayer(spec, self.params))
            else:
                layers.append(torch.nn.Module())
        self.layers = torch.nn.ModuleList(layers)
        self.tables = {}
        for i, spec in enumerate(LAYERS):
            for key in ("lut", "luts", "avg_mult", "avg_shift"):
                if key in spec:
                    self.tables[(i, key)] = (torch.tensor(spec[key], dtype=_I64) if key != "luts"
                                             else [torch.tensor(t, dtype=_I64) for t in spec[key]])

    def seed(self, n):
        self.gen.manual_seed(n)

    @property
    def adc_clip_ste(self):
        """True (default): ADC conversions that clip pass no gradient (clipped STE); False: the
        gradient of the unclipped product (the module before issue 14)."""
        return all(getattr(m, "adc_clip_ste", True) for m in self.layers)

    @adc_clip_ste.setter
    def adc_clip_ste(self, on):
        for m in self.layers:
            if isinstance(m, ConvLayer):
                m.adc_clip_ste = bool(on)

    def noise_on(self):
        return self.training if self.noise is None else bool(self.noise)

    def forward(self, *inputs):
        noise = self.noise_on()
        codes, real = {}, {}
        for tid, x in zip(INPUTS, inputs):
            t = TENSORS[tid]
            x = x.reshape((x.shape[0],) + tuple(t["shape"]))
            v = x.detach().to(_F64) / t["scale"]
            v = torch.where(torch.isnan(v), torch.zeros_like(v), v)
            c = _round_half_away(torch.clamp(v, t["qmin"], t["qmax"]))
            codes[tid] = c
            real[tid] = _ste(x, c.to(torch.float32) * t["scale"])
        for i, spec in enumerate(LAYERS):
            k = spec["kind"]
            ins = spec["inputs"]
            to = TENSORS[spec["output"]]
            N = codes[ins[0]].shape[0]
            oshape = (N,) + tuple(to["shape"])
            if k == "conv":
                c, r = self.layers[i](real[ins[0]], codes[ins[0]], TENSORS[ins[0]], to, self.xbar, noise, self.gen)
            elif k == "add":
                a, b = codes[ins[0]].to(_I64), codes[ins[1]].to(_I64)
                acc = a * spec["mult_a"] + b * spec["mult_b"]
                c = _requantize(acc, 1, torch.full_like(acc, spec["shift"]), to["qmin"], to["qmax"])
                sign = 1.0 if spec["mult_b"] >= 0 else -1.0
                sur = torch.clamp(real[ins[0]] + sign * real[ins[1]], to["qmin"] * to["scale"], to["qmax"] * to["scale"])
                r = _ste(sur, c.to(torch.float32) * to["scale"])
            elif k in ("maxpool", "avgpool"):
                kh, kw = spec["kernel"]
                pt, pl, pb, pr = spec["pads"]
                (sh, sw), (dh, dw) = spec["strides"], spec["dilations"]
                x = codes[ins[0]]
                H, W = x.shape[2], x.shape[3]
                OH, OW = to["shape"][1], to["shape"][2]
                eb = _window_out(H, pt, pb, kh, dh, sh, OH)
                er = _window_out(W, pl, pr, kw, dw, sw, OW)
                pad = (pl, pr + er, pt, pb + eb)
                C = x.shape[1]

                def windows(t, value):
                    p = F.pad(t, pad, value=value)
                    u = F.unfold(p, (kh, kw), dilation=(dh, dw), stride=(sh, sw))
                    return u.reshape(t.shape[0], t.shape[1], kh * kw, -1)[..., :OH * OW]

                if k == "maxpool":
                    c = windows(x, -math.inf).amax(2).reshape(oshape)
                    r = _ste(windows(real[ins[0]], -math.inf).amax(2).reshape(oshape), c.to(torch.float32) * to["scale"])
                else:
                    ones = torch.ones((1, 1, H, W), dtype=_F64)
                    if spec["count_include_pad"]:
                        ones = F.pad(ones, (pl, pr, pt, pb), value=1.0)
                        ones = F.pad(ones, (0, er, 0, eb))
                        cnt = F.unfold(ones, (kh, kw), dilation=(dh, dw), stride=(sh, sw)).sum(1)[..., :OH * OW]
                    else:
                        cnt = windows(ones, 0.0).sum(2)
                    cnt = cnt.reshape(1, 1, OH, OW)
                    idx = cnt.to(_I64).expand(N, C, OH, OW)
                    sums = windows(x, 0.0).sum(2).reshape(oshape).to(_I64)
                    mult = self.tables[(i, "avg_mult")][idx]
                    shift = self.tables[(i, "avg_shift")][idx]
                    c = _requantize(sums, mult, shift, to["qmin"], to["qmax"])
                    sur = windows(real[ins[0]], 0.0).sum(2).reshape(oshape) / cnt.to(torch.float32)
                    r = _ste(torch.clamp(sur, to["qmin"] * to["scale"], to["qmax"] * to["scale"]),
                             c.to(torch.float32) * to["scale"])
            elif k == "lut":
                ti = TENSORS[ins[0]]
                lut = self.tables[(i, "lut")]
                idx = (codes[ins[0]] - ti["qmin"]).to(_I64)
                c = lut[idx].to(_F64)
                # Gradient: the table's own slope (central differences), in real units.
                lf = lut.to(torch.float32)
                slope = torch.empty_like(lf)
                if lf.numel() > 1:
                    slope[1:-1] = (lf[2:] - lf[:-2]) / 2
                    slope[0] = lf[1] - lf[0]
                    slope[-1] = lf[-1] - lf[-2]
                else:
                    slope.zero_()
                slope = slope * (to["scale"] / ti["scale"])
                r = _ste(real[ins[0]] * slope[idx].detach(), c.to(torch.float32) * to["scale"])
            elif k == "concat":
                parts_c, parts_r = [], []
                for j, tid in enumerate(ins):
                    ti = TENSORS[tid]
                    lut = self.tables[(i, "luts")][j]
                    parts_c.append(lut[(codes[tid] - ti["qmin"]).to(_I64)].to(_F64))
                    parts_r.append(real[tid])
                c = torch.cat(parts_c, dim=1)
                sur = torch.clamp(torch.cat(parts_r, dim=1), to["qmin"] * to["scale"], to["qmax"] * to["scale"])
                r = _ste(sur, c.to(torch.float32) * to["scale"])
            else:  # reshape
                c = codes[ins[0]].reshape(oshape)
                r = real[ins[0]].reshape(oshape)
            codes[spec["output"]] = c
            real[spec["output"]] = r
        outs = []
        for tid, softmax, shape in zip(OUTPUTS, HOST_SOFTMAX, OUTPUT_SHAPES):
            y = real[tid]
            if softmax and self.apply_host_softmax:
                # reference::host_softmax: v - max in float, exp and sum in double, float result;
                # over the channels of a {C,H,W} output, over all values of an {F} output.
                flat = len(TENSORS[tid]["shape"]) != 3
                z = y.reshape(y.shape[0], -1) if flat else y
                e = torch.exp((z - z.amax(dim=1, keepdim=True)).to(_F64))
                y = (e / e.sum(dim=1, keepdim=True)).to(torch.float32)
            outs.append(y.reshape((y.shape[0],) + tuple(shape[1:])))
        return outs[0] if len(outs) == 1 else tuple(outs)

    def save_weights(self, path):
        """Writes the trainable tensors in the format `cimsim compile --weights` reads
        (docs/training.md): a magic line, a JSON index line, float32 little-endian data."""
        index = {"tensors": [{"name": n, "shape": list(p.shape)} for n, p in zip(self.param_names, self.params)]}
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"cimsim-weights 1\n")
            f.write(json.dumps(index).encode() + b"\n")
            for p in self.params:
                f.write(p.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())
        os.replace(tmp, path)


def _main():
    import argparse
    import numpy as np
    ap = argparse.ArgumentParser(description="Run the exported hardware model on an .npy input (eval mode).")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--noise", action="store_true", help="sample the arch's noise (default: off)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--weights", default=None, help="load trained weights (cimsim-weights file)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    m = HwModel(seed=args.seed)
    if args.weights:
        m.load_weights(args.weights)
    m.eval()
    m.noise = args.noise
    x = torch.from_numpy(np.load(args.input).astype(np.float32))
    with torch.no_grad():
        y = m(x)
    np.save(args.output, y.numpy().astype(np.float32))


def _load_weights(self, path):
    """Reads a cimsim-weights file written by save_weights (same tensors, same shapes)."""
    with open(path, "rb") as f:
        if f.readline().rstrip(b"\n") != b"cimsim-weights 1":
            raise ValueError(path + ": not a cimsim weights file")
        index = json.loads(f.readline())
        data = f.read()
    at = 0
    by_name = dict(zip(self.param_names, self.params))
    for t in index["tensors"]:
        n = 1
        for d in t["shape"]:
            n *= d
        vals = torch.frombuffer(bytearray(data[at:at + 4 * n]), dtype=torch.float32).reshape(t["shape"])
        at += 4 * n
        if t["name"] not in by_name or tuple(by_name[t["name"]].shape) != tuple(vals.shape):
            raise ValueError(path + ": tensor '" + t["name"] + "' does not match this model")
        with torch.no_grad():
            by_name[t["name"]].copy_(vals)


HwModel.load_weights = _load_weights

if __name__ == "__main__":
    _main()
