"""Lecture 8 companion: recurrent networks and temporal convolutions.

1. Vanishing and exploding gradients: the eigenvalues of W_aa decide how dh_T/dh_t scales with
   the distance T - t; a tanh RNN vs an LSTM on the same input.
2. A character-level language model (GRU, dlcc.models.CharRNN) on dlcc's embedded corpus,
   sampled autoregressively with temperature and top-k.
3. Many-to-many tagging: R-wave trigger detection on synthetic ECG with a bidirectional GRU vs
   a causal one (dlcc.models.RNNTagger), scored with dlcc.metrics.events.
4. A temporal convolutional network: dilated causal convolutions and their receptive field.
5. Padding waste: batching variable-length sequences as they come vs sorted into buckets.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcc.data import make_synthetic_ecg
from dlcc.lectures.plotting import new_figure
from dlcc.metrics.events import event_scores
from dlcc.models.rnn import CharRNN, RNNTagger
from dlcc.models.tcn import TCN
from dlcc.signals.detect import find_triggers
from dlcc.text import CharVocab, RandomWindows, embedded_corpus, sample, split_by_position


def _orthogonal(n, rng):
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def _gradients_through_time(c):
    c.section("1. dh_T / dh_t over 60 steps: spectral radius of W_aa, tanh RNN vs LSTM")
    rng = np.random.default_rng(0)
    n, T = 32, 60
    base = _orthogonal(n, rng) @ np.diag(rng.uniform(0.6, 1.0, n)) @ _orthogonal(n, rng)
    base /= np.max(np.abs(np.linalg.eigvals(base)))           # spectral radius exactly 1
    fig, (a1, a2) = new_figure(1, 2, size=(10, 4))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    a1.plot(circle.real, circle.imag, "k--", lw=0.8)
    rows = []
    for rho, colour in ((0.9, "C0"), (1.0, "C1"), (1.1, "C3")):
        w = rho * base
        eig = np.linalg.eigvals(w)
        a1.scatter(eig.real, eig.imag, s=10, color=colour, label=f"ρ(W_aa) = {rho}")
        # linear recurrence h_t = W h_{t-1}: dh_T/dh_t = W^(T-t); its norm grows like rho^(T-t)
        norms, m = [], np.eye(n)
        for _ in range(T):
            m = w @ m
            norms.append(np.linalg.norm(m, 2))
        a2.semilogy(range(1, T + 1), norms, color=colour, label=f"linear RNN, ρ = {rho}")
        rows.append([f"linear, rho {rho}", norms[9], norms[-1]])
    torch.manual_seed(0)
    x = torch.randn(1, T, 8, requires_grad=True)
    lstm_open = nn.LSTM(8, n, batch_first=True)
    with torch.no_grad():      # gate order in torch: input, forget, cell, output
        lstm_open.bias_hh_l0[n:2 * n] += 3.0     # forget gate ~ sigmoid(3) = 0.95 at the start
    for name, rnn in (("tanh RNN (torch init)", nn.RNN(8, n, batch_first=True)),
                      ("LSTM (torch init, forget bias 0)", nn.LSTM(8, n, batch_first=True)),
                      ("LSTM, forget-gate bias +3", lstm_open)):
        out, _ = rnn(x)
        # |d h_T / d x_(T-k)|: how much the last state still hears of the input k steps back
        grad = torch.autograd.grad(out[0, -1].sum(), x)[0][0]
        norms = [grad[T - 1 - k].norm().item() for k in range(T)]
        a2.semilogy(range(1, T + 1), norms, "--", label=name + ": |dh_T/dx_(T-k)|")
        rows.append([name, norms[9], norms[-1]])
    c.table(["recurrence", "gradient norm, 10 steps back", "60 steps back"], rows, ".3g")
    c.number("rnn_grad_60", rows[3][2], "tanh RNN: gradient norm reaching 60 steps back", ".3g")
    c.number("lstm_grad_60", rows[4][2], "LSTM, forget bias 0: gradient norm reaching 60 steps back", ".3g")
    c.number("lstm_open_grad_60", rows[5][2], "LSTM, forget bias +3: gradient norm reaching 60 steps back", ".3g")
    a1.set_aspect("equal")
    a1.set_title("eigenvalues of W_aa (unit circle dashed)", fontsize=9)
    a1.legend(fontsize=7, loc="lower left")
    a2.set_xlabel("distance T − t (steps back in time)")
    a2.set_ylabel("gradient norm")
    a2.legend(fontsize=7)
    c.figure("vanishing_gradients", fig, "Left: eigenvalues of three recurrent matrices. Right: the "
             "gradient that flows back k steps shrinks or grows like ρ^k (solid). Dashed: a tanh RNN "
             "and an LSTM at torch's initialisation both lose it; an LSTM whose forget gates start "
             "open (bias +3) carries it along the cell state over all 60 steps.")


def _char_model(c):
    c.section("2. A character-level GRU on dlcc's embedded corpus (many-to-many training, one-to-many sampling)")
    text = embedded_corpus()
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = split_by_position(vocab.encode(text), val_frac=0.1)
    torch.manual_seed(0)
    model = CharRNN(len(vocab), hidden=128, layers=1, cell="gru", dropout=0.0, embed_dim=32)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    steps = c.steps(250, 800)
    losses = []
    for xb, yb in RandomWindows(train_ids, batch_size=16, block_size=64, steps=steps, seed=0):
        logits, _ = model(torch.as_tensor(xb))
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), torch.as_tensor(yb).reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        xv = torch.as_tensor(val_ids[:-1][None, :4000])
        yv = torch.as_tensor(val_ids[1:][None, :4000])
        val = nn.functional.cross_entropy(model(xv)[0].reshape(-1, len(vocab)), yv.reshape(-1)).item()
    c.number("vocab_size", len(vocab), "characters in the vocabulary", ".0f")
    c.number("char_val_loss", val, f"validation cross-entropy after {steps} steps (uniform guess: ln V)", ".3f")
    c.number("uniform_loss", np.log(len(vocab)), "ln V, the loss of a uniform guess", ".3f")
    for temperature, top_k in ((1.0, None), (0.7, 5)):
        text_out = sample(model, vocab, "We the people ", length=160, temperature=temperature, top_k=top_k, seed=1)
        c.say(f"sample (temperature {temperature}, top-k {top_k}): {text_out!r}")
    fig, ax = new_figure(size=(6.5, 3.4))
    ax.plot(np.convolve(losses, np.ones(20) / 20, "valid"))
    ax.axhline(np.log(len(vocab)), color="0.5", ls=":", label="uniform guess, ln V")
    ax.axhline(val, color="C3", ls="--", label=f"validation {val:.2f}")
    ax.set_xlabel("step (16 windows of 64 characters)")
    ax.set_ylabel("cross-entropy per character")
    ax.legend(fontsize=8)
    c.figure("char_model", fig, "Training loss of the character GRU: each step predicts the next "
             "character at all 64 positions of 16 windows (many-to-many, teacher forcing).")


def _ecg_windows(seconds, seed, fs=250, window=256):
    signal, peaks = make_synthetic_ecg(seconds, fs=fs, n_leads=2, seed=seed, noise=0.05)
    target = np.zeros(len(signal), np.float32)
    target[peaks] = 1.0
    n = len(signal) // window
    x = signal[: n * window].reshape(n, window, 2)
    y = target[: n * window].reshape(n, window)
    return torch.from_numpy(x), torch.from_numpy(y), signal, peaks


def _trigger_detection(c):
    c.section("3. Many-to-many: R-wave triggers in synthetic 2-lead ECG (250 Hz), GRU taggers")
    fs = 250
    x, y, _, _ = _ecg_windows(180, seed=0, fs=fs)
    xt_sig, peaks_t = make_synthetic_ecg(60, fs=fs, n_leads=2, seed=7, noise=0.05)
    pos_weight = (y.numel() - y.sum()) / y.sum()    # one R sample per ~200: weigh positives up
    rows, traces = [], {}
    for bidirectional in (True, False):
        torch.manual_seed(0)
        model = RNNTagger(in_channels=2, hidden=32, layers=1, cell="gru", bidirectional=bidirectional, patch=4)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(0)
        for _ in range(c.steps(100, 250)):
            idx = torch.randint(0, len(x), (16,), generator=gen)
            loss = nn.functional.binary_cross_entropy_with_logits(model(x[idx]), y[idx], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            probs = torch.sigmoid(model(torch.from_numpy(xt_sig)[None]))[0].numpy()
        found = find_triggers(probs, fs=fs, threshold=0.5)
        scores = event_scores(peaks_t, found, fs=fs)
        name = "bidirectional GRU" if bidirectional else "causal (one-way) GRU"
        rows.append([name, scores["ppv"], scores["sensitivity"], scores["f1"]])
        traces[name] = (probs, found)
    c.table(["tagger", "precision (+P)", "sensitivity", "F1 (within 150 ms)"], rows, ".3f")
    c.number("ecg_f1_bidirectional", rows[0][3], "trigger F1, bidirectional GRU", ".3f")
    c.number("ecg_f1_causal", rows[1][3], "trigger F1, causal GRU", ".3f")
    fig, axes = new_figure(2, 1, size=(9, 4.2), sharex=True)
    span = slice(0, 4 * fs)
    t = np.arange(len(xt_sig))[span] / fs
    axes[0].plot(t, xt_sig[span, 0], lw=0.8)
    axes[0].plot(peaks_t[peaks_t < 4 * fs] / fs, xt_sig[peaks_t[peaks_t < 4 * fs], 0], "ro", ms=4, label="true R peaks")
    axes[0].legend(fontsize=8)
    for name, (probs, _) in traces.items():
        axes[1].plot(t, probs[span], label=name)
    axes[1].set_xlabel("seconds")
    axes[1].set_ylabel("P(trigger)")
    axes[1].legend(fontsize=8)
    c.figure("ecg_tagging", fig, "A many-to-many RNN emits one probability per time step; peaks "
             "above 0.5 become triggers. The causal tagger must decide before it sees the rest of "
             "the beat.")


def _tcn(c):
    c.section("4. A TCN: dilated causal convolutions (dlcc.models.TCN, kernel 3, dilations 1..8)")
    torch.manual_seed(0)
    fig, axes = new_figure(2, 1, size=(8, 3.6), sharex=True)
    for ax, causal in zip(axes, (True, False)):
        tcn = TCN(in_channels=1, channels=8, levels=4, kernel_size=3, causal=causal)
        for m in tcn.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.constant_(m.weight, 0.1)
        x = torch.zeros(1, 160, 1, requires_grad=True)
        tcn(x)[0, 100].backward()
        seen = np.nonzero(x.grad[0, :, 0].abs().numpy() > 0)[0]
        ax.bar(np.arange(160), (x.grad[0, :, 0].abs() > 0).float().numpy(), width=1.0)
        ax.axvline(100, color="r", lw=1)
        ax.set_yticks([])
        label = "causal" if causal else "non-causal (centred)"
        ax.set_title(f"{label}: output 100 sees inputs {seen.min()}..{seen.max()} "
                     f"({len(seen)} samples; formula {tcn.receptive_field})", fontsize=9)
        c.number(f"tcn_rf_{'causal' if causal else 'centred'}", len(seen), f"{label} receptive field (measured)", ".0f")
        if causal:
            c.number("tcn_future_inputs", int((seen > 100).sum()), "inputs after t = 100 that output 100 sees", ".0f")
    axes[1].set_xlabel("input time step (red: the output's own time)")
    c.figure("tcn", fig, "Inputs that reach output 100 of a 4-level TCN (two dilated convolutions "
             "per level, dilations 1, 2, 4, 8). Causal padding looks only into the past; the "
             "receptive field doubles with each level.")


def _padding(c):
    c.section("5. Padding waste when batching 1,000 sequences of random length (batch 32)")
    rng = np.random.default_rng(0)
    lengths = rng.lognormal(5.0, 0.8, 1000).astype(int) + 1

    def waste(order):
        padded = sum(len(b) * b.max() for b in np.array_split(lengths[order], len(lengths) // 32))
        return 1 - lengths.sum() / padded

    shuffled = waste(rng.permutation(len(lengths)))
    sorted_ = waste(np.argsort(lengths))
    c.table(["batching", "share of padding"], [["as they come", shuffled], ["sorted by length (buckets)", sorted_]], ".3f")
    c.number("padding_shuffled", shuffled, "padding share, random batches", ".3f")
    c.number("padding_sorted", sorted_, "padding share, length-sorted batches", ".3f")


def run(c) -> None:
    _gradients_through_time(c)
    _char_model(c)
    _trigger_detection(c)
    _tcn(c)
    _padding(c)
