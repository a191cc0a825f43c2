"""Recipe `ecg-lead-cyclegan`: unpaired translation between two ECG leads (MLII <-> V1) with a
1-D CycleGAN, the lecture's unpaired image-to-image translation carried over to signals.

Data (`dlcc.signals.lead_pairs`): 512-sample segments (1.4 s at 360 Hz) of lead MLII from six
MIT-BIH records and of lead V1 from five *other* records - no heart contributes both leads, so
the training data hold no pairs. One more record keeps both leads for the validation curves,
and four records are held back as the test: there the translated MLII is compared with the V1
recorded at the same moment.

Model: two `LeadTranslator`s (residual encoder-decoders, MLII->V1 and V1->MLII) and two
`PatchDiscriminator1d`s (`dlcc.models.cyclegan1d`), trained by `dlcc.generative.CycleGANStep`
(LS-GAN losses, cycle loss λ = 10), Adam(2e-4, β1 0.5).

Evaluation, on the test records' pairs, in both directions: mean absolute error, RMSE and the
mean per-segment correlation between the translated and the recorded lead (leads are z-scored,
so errors are in standard deviations), beside three baselines that use no learning: the input
lead copied, the input inverted, and zero (the z-scored mean). The weights kept are the last
ones (`train.select=last`): selecting on `val_mae_ab` would use paired data, which unpaired
translation assumes you do not have; the validation curves are there to look at.

Writes: metrics.json (`test_mae_ab`, `test_corr_ab`, `test_mae_ba`, `test_corr_ba`, and the
baselines `test_mae_copy_ab`, `test_mae_inverted_ab`, `test_mae_zero`, ...), translation.png
(held-out segments: input, recorded and translated lead), samples/step_*.png, curves.png,
model.pt, checkpoints/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dlcc.config import section, setting
from dlcc.errors import ConfigError
from dlcc.generative.cycle import CycleSettings
from dlcc.recipes.registry import Recipe, RunContext
from dlcc.signals import lead_pairs
from dlcc.train import TrainConfig


@dataclass
class LeadData:
    source_records: list[str] = setting(lead_pairs.SOURCE_RECORDS, "records whose MLII is domain A")
    target_records: list[str] = setting(lead_pairs.TARGET_RECORDS, "records whose V1 is domain B")
    val_records: list[str] = setting(lead_pairs.VAL_RECORDS, "records with both leads for the validation curves")
    test_records: list[str] = setting(lead_pairs.TEST_RECORDS, "records with both leads, evaluated once")
    length: int = setting(512, "samples per segment (divisible by 16)", ge=16)
    hop: int = setting(256, "samples between the starts of training segments", ge=1)

    def check(self, where: str) -> None:
        if self.length % 16:
            raise ConfigError(f"{where}length={self.length} is not divisible by 16", fix=f"--set {where}length=512")
        groups = {k: set(getattr(self, f"{k}_records")) for k in ("source", "target", "val", "test")}
        for k, records in groups.items():
            if not records:
                raise ConfigError(f"{where}{k}_records is empty", fix=f"list at least one record in {where}{k}_records")
        for a, b in (("source", "target"), ("source", "test"), ("target", "test"), ("source", "val"),
                     ("target", "val"), ("val", "test")):
            both = sorted(groups[a] & groups[b])
            if both:
                raise ConfigError(f"record(s) {', '.join(both)} are in both {where}{a}_records and {where}{b}_records; "
                                  "unpaired training takes each lead from other records, and the test records stay "
                                  "unseen", fix="list each record in one group only")


@dataclass
class TranslatorModel:
    channels: int = setting(16, "channels of the translators' first layer (x2 and x4 deeper)", ge=1)
    blocks: int = setting(4, "dilated residual blocks (dilation 1, 2, 4, ...)", ge=1)
    d_channels: int = setting(32, "channels of the discriminators' first layer", ge=1)


@dataclass
class LeadEval:
    plot_segments: int = setting(4, "held-out segments drawn in translation.png", ge=1)


@dataclass
class Config:
    seed: int = setting(0, "seed for weights and data order", ge=0)
    data: LeadData = section(LeadData)
    model: TranslatorModel = section(TranslatorModel)
    cycle: CycleSettings = section(CycleSettings)
    train: TrainConfig = section(TrainConfig, epochs=None, steps=2000, eval_every=250, batch_size=32,
                                 optimizer="adam", lr=2e-4, momentum=0.5, select="last")
    eval: LeadEval = section(LeadEval)


def build_model(cfg: Config, artifacts: dict | None = None) -> torch.nn.ModuleDict:
    from dlcc.generative.cycle import cycle_model
    from dlcc.models.cyclegan1d import LeadTranslator, PatchDiscriminator1d

    m = cfg.model
    return cycle_model(LeadTranslator(m.channels, m.blocks), LeadTranslator(m.channels, m.blocks),
                       PatchDiscriminator1d(m.d_channels), PatchDiscriminator1d(m.d_channels))


def _pairs(records, length: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    both, names = lead_pairs.paired_segments(records, lead_pairs.LEADS, length, length)
    return torch.from_numpy(both[:, :1]), torch.from_numpy(both[:, 1:]), names


def run(cfg: Config, ctx: RunContext) -> dict:
    from dlcc.generative.callbacks import SampleSnapshots
    from dlcc.generative.cycle import CycleGANStep, translate
    from dlcc.generative.figures import plot_translation
    from dlcc.metrics.waveforms import waveform_errors
    from dlcc.train import EvalMonitor, Task, TensorBatches, make_loader, train_and_report

    d = cfg.data
    a = lead_pairs.lead_segments(d.source_records, "MLII", d.length, d.hop)
    b = lead_pairs.lead_segments(d.target_records, "V1", d.length, d.hop)
    n = min(len(a), len(b))        # unpaired: the i-th segments of the two domains are unrelated
    rng = np.random.default_rng(cfg.seed)
    a, b = a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]
    loader = make_loader(TensorBatches(torch.from_numpy(a)[:, None], torch.from_numpy(b)[:, None]),
                         cfg.train.batch_size, shuffle=True, seed=cfg.seed, drop_last=True)
    val_a, val_b, _ = _pairs(d.val_records, d.length)
    test_a, test_b, test_names = _pairs(d.test_records, d.length)
    model = build_model(cfg)
    name = ctx.name or "ecg-lead-cyclegan"

    def val_errors(key: str, G: str, x, y):
        return EvalMonitor(lambda: waveform_errors(translate(model[G], x).numpy(), y.numpy())["mae"], key=key)

    def draw(path, generator):
        pick = torch.linspace(0, len(val_a) - 1, cfg.eval.plot_segments).long()
        plot_translation(val_a[pick, 0].numpy(), val_b[pick, 0].numpy(), translate(model["G_ab"], val_a[pick])[:, 0].numpy(),
                         path, ("MLII", "V1"), title=f"{name}: validation record(s) {', '.join(d.val_records)}, {path.stem}")

    task = Task(model, loader, None, None, step=CycleGANStep(model, cfg.cycle, cfg.train),
                callbacks=[val_errors("val_mae_ab", "G_ab", val_a, val_b), val_errors("val_mae_ba", "G_ba", val_b, val_a),
                           SampleSnapshots(draw, ctx.out_dir / "samples", model)], title=name,
                artifacts={"leads": list(lead_pairs.LEADS), "directions": {"G_ab": "MLII -> V1", "G_ba": "V1 -> MLII"},
                           "input": {"fs": 360, "length": d.length,
                                     "preprocessing": "0.5 Hz high-pass, z-scored per record (dlcc.signals.beats)"}})
    ctx.log(f"{name}: {n:,} unpaired segments per domain (MLII of {', '.join(d.source_records)}; V1 of "
            f"{', '.join(d.target_records)}); test pairs: {len(test_a):,} segments of {', '.join(d.test_records)}")

    def test(model, info):
        ab = translate(model["G_ab"], test_a).numpy()
        ba = translate(model["G_ba"], test_b).numpy()
        x, y = test_a.numpy(), test_b.numpy()
        out = {}
        for key, (pred, truth) in {"ab": (ab, y), "ba": (ba, x), "copy_ab": (x, y), "inverted_ab": (-x, y),
                                   "copy_ba": (y, x), "inverted_ba": (-y, x)}.items():
            out.update({f"test_{m}_{key}": v for m, v in waveform_errors(pred, truth).items()})
        out["test_mae_zero"] = float(np.abs(y).mean())
        per_record = {r: waveform_errors(ab[test_names == r], y[test_names == r]) for r in d.test_records}
        out["test_per_record_ab"] = per_record
        pick = np.linspace(0, len(x) - 1, cfg.eval.plot_segments).astype(int)
        plot_translation(x[pick, 0], y[pick, 0], ab[pick, 0], ctx.out_dir / "translation.png", ("MLII", "V1"),
                         title=f"{name}: held-out records {', '.join(d.test_records)} (MAE {out['test_mae_ab']:.3f}, "
                               f"r {out['test_corr_ab']:.3f})")
        ctx.log(f"{name}: MLII -> V1 on held-out pairs: MAE {out['test_mae_ab']:.3f}, r {out['test_corr_ab']:.3f} "
                f"(copy MLII: {out['test_mae_copy_ab']:.3f}, r {out['test_corr_copy_ab']:.3f}; inverted: "
                f"{out['test_mae_inverted_ab']:.3f}, r {out['test_corr_inverted_ab']:.3f}; zero: {out['test_mae_zero']:.3f})")
        ctx.log(f"{name}: V1 -> MLII: MAE {out['test_mae_ba']:.3f}, r {out['test_corr_ba']:.3f} "
                f"(copy V1: {out['test_mae_copy_ba']:.3f}, r {out['test_corr_copy_ba']:.3f})")
        return out

    return train_and_report(task, cfg.train, ctx, test=test)


RECIPE = Recipe("ecg-lead-cyclegan", "unpaired MLII <-> V1 translation with a 1-D CycleGAN, scored on held-out "
                                     "records' true pairs", "mitbih", Config, run, build_model,
                tags=("generative", "signals"), lightning=False)
