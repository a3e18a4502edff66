"""The demo command end to end on scikit-learn's digits, with a tiny budget."""

import re

import matplotlib

matplotlib.use("Agg")

from clustpy_acedec import ACeDeC
from clustpy_acedec_bench.demo import build_parser, main


def test_demo_prints_nmi_and_writes_the_plots(tmp_path, capsys):
    code = main(["--pretrain-epochs", "2", "--clustering-epochs", "1", "--embedding-size", "4", "--device", "cpu",
                 "--quiet", "--output", str(tmp_path), "--save-model", str(tmp_path / "model.pt")])
    assert code == 0
    out = capsys.readouterr().out
    assert "NMI = " in out and "cluster-space dimensions" in out
    # three decimals for the score; a duration under ten seconds with a decimal ("3.4 s", not "3 s")
    duration = r"(\d\.\d{1,2} s|[1-5]\d s|\d+ min \d\d s|\d+ h \d\d min)"
    assert re.search(rf"NMI = [01]\.\d{{3}}   \({duration} on cpu\)", out), out
    # the weights with two decimals each, not float32's binary expansion ("0.8600000143051147")
    assert re.search(r"β_cs: \[[01]\.\d\d(, [01]\.\d\d){3}\]\n", out), out
    for name in ("betas.png", "cluster_space.png", "space_reconstructions.png", "decoded_centers.png"):
        assert (tmp_path / name).stat().st_size > 0
    # the model is not listed among the plots but on a line of its own, and loads
    assert "model.pt" not in out.split("plots written to")[1].splitlines()[0]
    assert f"model saved to {tmp_path / 'model.pt'}" in out
    assert ACeDeC.load(tmp_path / "model.pt", device="cpu").labels_.shape == (1797,)


def test_help_explains_the_defaults():
    text = build_parser().format_help()
    assert "--dataset" in text and "digits" in text and "default" in text
