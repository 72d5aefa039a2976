#!/usr/bin/env python3
"""PyTorch reference for bench/engine_bench.ts: exactly the work our engines do, written the way a
PyTorch user would (nn.Modules, the frozen backbone in eval mode with requires_grad False, autograd,
torch.optim.Adam). Never a dependency of the platform: the benchmark runs it with /usr/bin/python3 when
`import torch` works there (Debian python3-torch) and skips it otherwise.

Protocol: a persistent process driven over stdin, so the TypeScript benchmark can interleave it with the
other engines (the machine is shared; load drifts). Commands, one per line, answered by one JSON line:
  setup <arch> <batch> <size> <taps> <experts>   build the models (seeded), warm up; {"ok": true, ...}
  threads <n>                                    torch.set_num_threads(n)
  mode default|best                              default: fp32 NCHW (what the bench compared with first);
                                                 best: PyTorch's best CPU mode here, channels_last memory
                                                 format + torch.autocast('cpu', dtype=torch.bfloat16)
                                                 (AVX512_BF16), the Adam state and master weights fp32
  infer | infer_ssmb | train                     time one run; {"ms": ...}
  quit
IResNet (insightface): conv3x3 + BN + PReLU stem; IBasicBlocks BN -> conv3x3 -> BN -> PReLU ->
conv3x3(stride) -> BN (+ 1x1 conv + BN shortcut); head BN -> flatten -> fc -> BN1d. SSMB (DESIGN 4):
style statistics -> router softmax -> top-1 expert (one-hot pick, gate = chosen probability) -> MLP ->
(dgamma, dbeta); y = x + g ((x - mu) dgamma + dbeta). Loss L_cc + L_ts + 0.01 L_lb on cached teacher
embeddings, Adam on the SSMB parameters only.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ARCHS = {'iresnet18': [2, 2, 2, 2], 'iresnet34': [3, 4, 6, 3], 'iresnet50': [3, 4, 14, 3]}


class IBasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        self.prelu = nn.PReLU(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout, eps=1e-5)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-5))

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (self.downsample(x) if self.downsample is not None else x)


class SSMB(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        d = max(16, c // 2)
        self.n = n
        self.router = nn.Linear(2 * c, n) if n > 1 else None
        self.w1 = nn.Parameter(torch.randn(n, 2 * c, d) * (2 / (2 * c)) ** 0.5)
        self.b1 = nn.Parameter(torch.zeros(n, d))
        self.w2 = nn.Parameter(torch.randn(n, d, 2 * c) * 0.01)
        self.b2 = nn.Parameter(torch.zeros(n, 2 * c))

    def forward(self, x):
        b, c = x.shape[:2]
        mu = x.mean(dim=(2, 3), keepdim=True)
        var = ((x - mu) ** 2).mean(dim=(2, 3), keepdim=True)
        sigma = torch.sqrt(var + 1e-5)
        s = torch.cat([mu.flatten(1), sigma.flatten(1)], 1)  # [B,2C]
        probs = F.softmax(self.router(s), 1) if self.router is not None else torch.ones(b, 1)
        k = probs.argmax(1)
        onehot = F.one_hot(k, self.n).float()
        gate = (probs * onehot).sum(1)  # [B]
        w1 = (onehot @ self.w1.flatten(1)).view(b, 2 * c, -1)
        h = torch.relu(torch.bmm(s.unsqueeze(1), w1).squeeze(1) + onehot @ self.b1)
        w2 = (onehot @ self.w2.flatten(1)).view(b, -1, 2 * c)
        mod = torch.bmm(h.unsqueeze(1), w2).squeeze(1) + onehot @ self.b2  # [B,2C]
        dgamma, dbeta = mod[:, :c, None, None], mod[:, c:, None, None]
        g = gate.view(b, 1, 1, 1)
        return x + g * ((x - mu) * dgamma + dbeta), probs, k


class IResNet(nn.Module):
    def __init__(self, depths, size, widths=(64, 128, 256, 512), stem=64, emb=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem, eps=1e-5)
        self.prelu = nn.PReLU(stem)
        layers, cin = [], stem
        for w, dep in zip(widths, depths):
            blocks = []
            for i in range(dep):
                blocks.append(IBasicBlock(cin, w, 2 if i == 0 else 1))
                cin = w
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.ModuleList(layers)
        side = size
        for _ in range(4):
            side = (side - 1) // 2 + 1
        self.bn2 = nn.BatchNorm2d(cin, eps=1e-5)
        self.fc = nn.Linear(cin * side * side, emb)
        self.features = nn.BatchNorm1d(emb, eps=1e-5)
        self.widths, self.stem = widths, stem

    def channels(self, tap):
        return self.stem if tap == 'stem' else self.widths[int(tap[-1]) - 1]

    def forward(self, x, blocks=None):
        routings = []
        h = self.prelu(self.bn1(self.conv1(x)))
        names = ['stem', 'layer1', 'layer2', 'layer3', 'layer4']
        for i, name in enumerate(names):
            if i > 0:
                h = self.layers[i - 1](h)
            if blocks is not None and name in blocks:
                h, p, k = blocks[name](h)
                routings.append((p, k))
        h = self.bn2(h)
        return self.features(self.fc(torch.flatten(h, 1))), routings


def cosine(a, b):
    return (a * b).sum(1) * torch.rsqrt(torch.clamp((a * a).sum(1) * (b * b).sum(1), min=1e-24))


class Bench:
    best = False

    def mode(self, name):
        if name not in ('default', 'best'):
            raise ValueError(f'mode {name}; expected default or best')
        self.best = name == 'best'
        fmt = torch.channels_last if self.best else torch.contiguous_format
        self.model.to(memory_format=fmt)
        self.blocks.to(memory_format=fmt)
        self.x = self.x.contiguous(memory_format=fmt)
        return {'ok': True, 'mode': name}

    def context(self):
        # autocast on the CPU in bf16: convs and matmuls in bf16, reductions and the loss in fp32
        return torch.autocast('cpu', dtype=torch.bfloat16) if self.best else torch.autocast('cpu', enabled=False)

    def setup(self, arch, batch, size, taps, experts):
        torch.manual_seed(0)
        self.batch, self.size = int(batch), int(size)
        self.model = IResNet(ARCHS[arch], self.size).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.blocks = nn.ModuleDict({t: SSMB(self.model.channels(t), int(experts)) for t in taps.split(',')})
        self.opt = torch.optim.Adam(self.blocks.parameters(), lr=1e-3)
        self.x = torch.randn(self.batch, 3, self.size, self.size)
        pairs = self.batch // 2
        self.y = torch.tensor([1.0 if i % 2 == 0 else 0.0 for i in range(pairs)])
        with torch.no_grad():
            self.tv = self.model(self.x[:pairs])[0]  # cached teacher embeddings, as the trainer caches them
        for m in ('best', 'default'):
            self.mode(m)
            for cmd in ('infer', 'infer_ssmb', 'train'):
                getattr(self, cmd)()
        return {'ok': True, 'torch': torch.__version__, 'params': sum(p.numel() for p in self.blocks.parameters())}

    def infer(self):
        with torch.no_grad(), self.context():
            self.model(self.x)

    def infer_ssmb(self):
        with torch.no_grad(), self.context():
            self.model(self.x, self.blocks)

    def train(self):
        pairs = self.batch // 2
        with self.context():
            emb, routings = self.model(self.x, self.blocks)
        emb = emb.float()
        routings = [(p.float(), k) for p, k in routings]
        sv, st = emb[:pairs], emb[pairs:]
        c = cosine(sv, st)
        lcc = (self.y * (1 - c) + (1 - self.y) * torch.relu(c)).mean()
        lts = (1 - cosine(sv, self.tv)).mean() + (self.y * (1 - cosine(st, self.tv))).sum() / torch.clamp(self.y.sum(), min=1)
        lb = []
        for p, k in routings:
            n = p.shape[1]
            f = F.one_hot(k, n).float().mean(0) if n > 1 else torch.ones(1)
            lb.append(n * (f * p.mean(0)).sum())
        loss = lcc + lts + 0.01 * torch.stack(lb).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()


def main():
    bench = Bench()
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        cmd, args = parts[0], parts[1:]
        try:
            if cmd == 'quit':
                break
            if cmd == 'setup':
                out = bench.setup(*args)
            elif cmd == 'threads':
                torch.set_num_threads(int(args[0]))
                out = {'ok': True, 'threads': torch.get_num_threads()}
            elif cmd == 'mode':
                out = bench.mode(args[0])
            elif cmd in ('infer', 'infer_ssmb', 'train'):
                t0 = time.perf_counter()
                getattr(bench, cmd)()
                out = {'ms': (time.perf_counter() - t0) * 1e3}
            else:
                out = {'error': f'unknown command {cmd}'}
        except Exception as err:  # reported to the benchmark, which names it
            out = {'error': f'{type(err).__name__}: {err}'}
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
