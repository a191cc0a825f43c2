"""Every companion runs in its quick setting, makes its figures, prints what they show, and
reaches the numbers its lecture page relies on."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import dlcc.lectures
from dlcc.lectures import LECTURES

READY = [lec.id for lec in LECTURES if lec.available]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.parametrize("lecture_id", READY)
def test_companion_makes_its_figures_and_says_what_they_show(companion_run, lecture_id):
    folder, meta = companion_run(lecture_id)
    assert len(meta["figures"]) >= 2
    for name, fname in meta["figures"].items():
        data = (folder / fname).read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000, fname
        assert f"figure {fname}: {meta['captions'][name]}" in meta["output"]
    assert meta["numbers"], "a companion prints numbers, not only pictures"
    assert "== " in meta["output"]            # sections say what is being computed


# The claims each lecture page makes from its companion's numbers (quick setting).
CHECKS = {
    "prologue": lambda n: n["data_exponent"] > 0.1 and n["classes_improved"] >= 8,
    "L1": lambda n: abs(n["gd_slope"] - 5) < 1 and n["collapse_error"] < 1e-12
    and n["spiral_mlp_accuracy"] > 0.95 and n["mlp_accuracy"] > n["hog_accuracy"],
    "L2": lambda n: abs(n["decomposition_gap"]) < 1e-12 and n["min_kl"] >= 0
    and n["softmax_grad_error"] < 1e-8 and 50 <= n["peak_width"] <= 200
    and n["error_widest"] < n["error_first_minimum"] < n["error_at_peak"]
    and n["mse_best_regulariser"] < n["mse_none"] and abs(n["inverted_dropout_mean"] - 1) < 0.02,
    "L3": lambda n: n["dL_dx"] == 85 and n["scalar_graph_disagreement"] == 0
    and abs(n["vjp_diagonal"] - 5.32) < 1e-9 and abs(n["vjp_off_diagonal"] + 1.44) < 1e-9
    and n["mlp_max_rel_diff"] < 1e-10 and n["fd_over_backprop_largest"] > 100
    and n["accumulation_method1_diff"] < 1e-12,
    "math": lambda n: n["binary_max_rel_diff"] < 1e-10 and n["multiclass_max_rel_diff"] < 1e-10
    and n["jacobian_error"] < 1e-8 and n["sigmoid_first_over_last"] < 1e-2,
    "L4": lambda n: abs(n["condition_number"] - 25) < 1e-9 and n["random_best"] > n["grid_best"]
    and n["acc_with_suggested_lr"] > 0.8 and n["lr_steepest"] > 0,
    "L5": lambda n: n["mismatch_gap"] > 5 * n["variance_gap"] and n["leaky_cv_accuracy"] > 0.7
    and n["honest_cv_accuracy"] < 0.65 and n["one_batch_final_loss"] < 0.01
    and n["double_softmax_final_loss"] > 0.5 and 0.7 < n["relu_he_std_layer10"] < 1.5,
    "L6": lambda n: n["conv_example_size"] == 67 and n["conv_example_params"] == 24040 and n["conv_vs_torch"] < 1e-5
    and n["rf_dilated"] == 15 and n["alexnet_grouped_params"] == 60965224 and n["lenet_params"] == 61706,
    "L7": lambda n: n["residual_final_loss"] < n["plain_final_loss"] and n["unet_mean_dice"] > 0.85
    and n["denoise_psnr_gain"] > 3 and n["sr_psnr_gain"] > 0 and n["boxes_after_nms"] < n["boxes_before_nms"],
    "L8": lambda n: n["lstm_open_grad_60"] > 1e3 * n["rnn_grad_60"] and n["char_val_loss"] < n["uniform_loss"]
    and n["tcn_future_inputs"] == 0 and n["padding_sorted"] < n["padding_shuffled"]
    and n["ecg_f1_bidirectional"] > 0.9,
    "L9": lambda n: n["attention_by_hand_diff"] < 1e-5 and n["reverse_accuracy"] > 0.95
    and n["anti_diagonal_weight"] > 0.8 and n["entropy_scaled_d1024"] > 10 * n["entropy_raw_d1024"]
    and n["ecg_detector_params"] == 6582272 and n["causal_weight_above_diagonal"] == 0,
    "L10": lambda n: n["dstar_max_error"] < 0.08 and abs(n["dstar_at_midpoint"] - 0.5) < 0.05
    and n["ns_over_minimax_gradient"] > 1000 and abs(n["js_bits_shift_1.5"] - 1) < 1e-9
    and abs(n["js_bits_shift_4"] - 1) < 1e-9 and abs(n["w1_shift_4"] - 4) < 0.01
    and n["fd_real_vs_real"] < n["fd_gan"] < n["fd_untrained"] / 10 and n["modes_gan"] >= 6
    and n["modes_untrained"] == 0,
    "L11": lambda n: n["clean_accuracy"] > 0.95 and n["example_changed"] == 1
    and n["pgd_accuracy_eps_0.1"] <= n["fgsm_accuracy_eps_0.1"] and n["pgd_accuracy_eps_0.2"] < 0.2
    and n["transfer_accuracy_eps_0.2"] < n["random_sign_accuracy_eps_0.2"] - 0.3
    and n["sanity_input_all_random"] > 0.999 and n["sanity_saliency_all_random"] < 0.5
    and n["sanity_gradcam_all_random"] < 0.5,
    "L12": lambda n: n["source_accuracy"] > 0.9
    and min(n["probe_most_labels"], n["finetune_most_labels"]) > n["scratch_most_labels"] + 0.08
    and max(n["scratch_1_label"], n["probe_1_label"], n["finetune_1_label"]) < 0.4
    and n["protonet_5shot"] > n["supervised_5shot"] > n["raw_5shot"] > n["random_5shot"]
    and n["protonet_1shot"] > n["raw_1shot"] + 0.05
    and n["maml_identity_error"] < 1e-12 and n["hvp_fd_rel_error"] < 1e-6
    and n["first_order_cosine"] > 0.9 and 0.05 < n["hvp_share"] < 0.6
    and n["maml_mse_after_1"] < n["random_mse_after_10"] and n["maml_mse_after_10"] < n["maml_mse_after_1"]
    and abs(n["ntxent_collapsed"] - n["log_2b_minus_1"]) < 1e-4
    and n["ntxent_spread_tau0.1"] < 0.5
    and n["ntxent_collapsed"] - 0.5 < n["ntxent_crowded_tau0.1"] < n["ntxent_collapsed"] < n["ntxent_random_tau0.1"]
    and n["positive_accuracy_spread"] == 1 and n["hardest_share_tau0.1"] > 3 * n["hardest_share_tau1"],
    "closing": lambda n: n["same_seed_identical"] == 1 and n["export_max_diff"] < 1e-5
    and n["accuracy_week19"] < n["accuracy_week0"] and n["alarm_week"] >= 6,
}


@pytest.mark.slow
@pytest.mark.parametrize("lecture_id", READY)
def test_companion_numbers_support_the_page(companion_run, lecture_id):
    _, meta = companion_run(lecture_id)
    assert CHECKS[lecture_id](meta["numbers"]), meta["numbers"]


def test_every_ready_lecture_has_a_check():
    assert set(CHECKS) == set(READY)


def test_lectures_use_only_the_stable_lower_layers():
    """dlcc.lectures may use scratch, models, data, metrics, text, signals, utils, the GAN,
    attack and attribution toolkits (generative, attacks, interpret), the small-data toolkits
    (transfer, fewshot, contrastive) and train.lr_finder;
    never course, commands, recipes, or the training loop's internals."""
    root = Path(dlcc.lectures.__file__).parent
    allowed = {"errors", "utils", "data", "scratch", "models", "metrics", "losses", "text", "signals",
               "lectures", "train", "generative", "attacks", "interpret", "transfer", "fewshot", "contrastive"}
    problems = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlcc."):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("dlcc.")]
            for name in names:
                parts = name.split(".")
                if parts[1] not in allowed or (parts[1] == "train" and name not in ("dlcc.train",
                                                                                    "dlcc.train.lr_finder")):
                    problems.append(f"{path.name}: {name}")
    assert not problems, problems


MARKERS = re.compile(r"<!--\s*dlcc:(figure|number)\s*([\w.-]+)\s*-->")


@pytest.mark.slow
@pytest.mark.parametrize("lecture_id", ["L10", "L11", "L12"])
def test_page_markers_name_what_the_companion_makes(companion_run, lecture_id):
    """Every figure and number a page quotes is one its companion records (the site build
    fails otherwise; this finds it without building the site)."""
    _, meta = companion_run(lecture_id)
    page = next(lec for lec in LECTURES if lec.id == lecture_id).page
    text = (Path(__file__).resolve().parents[2] / "docs" / page).read_text(encoding="utf-8")
    found = MARKERS.findall(text)
    assert len([k for k, _ in found if k == "figure"]) >= 2
    missing = [name for kind, name in found if name not in (meta["figures"] if kind == "figure" else meta["numbers"])]
    assert not missing, missing
