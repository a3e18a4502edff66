"""The two command lines as a user first meets them: ``--help`` answers at once and states every default once."""

import argparse
import subprocess
import sys

import pytest

from clustpy_acedec_bench import cli, demo, names

PARSERS = {"clustpy-acedec-bench": cli.build_parser, "clustpy-acedec-demo": demo.build_parser}


@pytest.mark.parametrize("module", ["clustpy_acedec_bench.cli", "clustpy_acedec_bench.demo"])
def test_help_answers_without_importing_torch(module):
    # a fresh interpreter: this test process has imported torch long ago
    code = (f"import sys\nfrom {module} import main\ntry:\n    main(['--help'])\nexcept SystemExit as exit:\n"
            f"    assert exit.code == 0, exit.code\n"
            f"heavy = sorted(m for m in ('torch', 'clustpy', 'sklearn') if m in sys.modules)\n"
            f"assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: clustpy-acedec-" in result.stdout


def _help_texts(parser: argparse.ArgumentParser) -> dict:
    """Option -> its help as printed (``%(default)s`` expanded the way argparse expands it)."""
    return {action.option_strings[-1]: (action.help or "") % dict(vars(action), prog=parser.prog)
            for action in parser._actions if action.option_strings and action.help is not argparse.SUPPRESS}


@pytest.mark.parametrize("prog", sorted(PARSERS))
def test_every_option_has_help_and_states_its_default_once(prog):
    parser = PARSERS[prog]()
    text = parser.format_help()
    assert "(default: None)" not in text and "(default: False)" not in text
    for option, help_text in _help_texts(parser).items():
        assert len(help_text) > 10, f"{prog} {option} has no help"
        assert help_text.count("default") <= 1, f"{prog} {option}: {help_text}"


def test_stated_defaults_are_the_parsed_ones():
    bench, shown = cli.build_parser(), _help_texts(cli.build_parser())
    parsed = bench.parse_args([])
    assert parsed.profile == "quick" and "default profile" in shown["--quick"]
    assert not any("default" in shown[flag] for flag in ("--cpu", "--paper"))  # one profile is the default
    assert f"(default: {parsed.output})" in shown["--output"]
    assert f"(default: {' '.join(map(str, parsed.scaling_sizes))})" in shown["--scaling-sizes"]
    assert f"(default: {' '.join(map(str, parsed.scaling_fixed))})" in shown["--scaling-fixed"]
    assert "(default: CUDA when available" in shown["--device"]
    shown = _help_texts(demo.build_parser())
    parsed = demo.build_parser().parse_args([])
    for option in ("--dataset", "--base", "--pretrain-epochs", "--clustering-epochs", "--batch-size",
                   "--embedding-size", "--seed", "--output"):
        value = getattr(parsed, option[2:].replace("-", "_"))
        assert f"(default: {value})" in shown[option], option


def test_the_light_names_agree_with_the_registries():
    from clustpy_acedec.pretraining import PRETRAINING_SCHEMES
    from clustpy_acedec_bench.methods import ACTIVATIONS, METHODS
    from clustpy_acedec_bench.profiles import PROFILES
    from clustpy_acedec_bench.scaling import SCALING_METHODS, ScalingGrid
    from clustpy_acedec_bench.speed import TASKS
    assert names.METHOD_NAMES == tuple(METHODS)
    assert names.PROFILE_NAMES == tuple(PROFILES)
    assert names.SPEED_TASKS == tuple(sorted(TASKS))
    assert names.SCALING_METHODS == SCALING_METHODS
    assert names.PRETRAINING_SCHEMES == PRETRAINING_SCHEMES
    assert names.ACTIVATIONS == tuple(ACTIVATIONS)
    grid = ScalingGrid()
    assert names.SCALING_DEFAULTS == {key: getattr(grid, key) for key in names.SCALING_DEFAULTS}


def test_unknown_names_are_refused_with_the_known_ones(capsys):
    with pytest.raises(SystemExit) as exit_:
        demo.build_parser().parse_args(["--base", "KMeans"])
    assert exit_.value.code == 2 and "invalid choice: 'KMeans'" in capsys.readouterr().err
    assert cli.main(["--speed", "no-such-task", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "unknown speed task 'no-such-task'; known: " in err and "acedec-digits" in err


@pytest.mark.parametrize("argv, message", [
    (["--scaling", "--datasets", "USPS"], "--datasets does not apply to --scaling"),
    (["--scaling", "--pretrain-epochs", "5", "--max-samples", "10"],
     "--max-samples, --pretrain-epochs do not apply to --scaling"),
    (["--scaling", "--precision", "bfloat16"], "--precision does not apply to --scaling"),
    (["--scaling", "--seeds", "0", "1"], "--scaling runs one seed"),
    (["--speed", "acedec-digits", "--methods", "DEC"], "--methods does not apply to --speed"),
    (["--quick", "--datasets", "USPS", "--methods", "ENRC"], "nothing to run: the quick profile runs none"),
    (["--distributed", "--seeds", "0", "3"], "--distributed runs one seed"),
    (["--quick", "--datasets", "USPS", "--device", "meta"], "device 'meta' holds no data"),
    (["--speed", "acedec-digits", "--device", "meta"], "device 'meta' holds no data"),
    (["--scaling", "--device", "meta"], "device 'meta' holds no data"),
])
def test_options_a_mode_would_ignore_are_refused(argv, message, capsys, tmp_path):
    assert cli.main([*argv, "--quiet", "--output", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything ran or was written
