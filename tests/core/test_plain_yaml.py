"""The fast reader of plain YAML gives exactly the data the exact (ruamel.yaml) reader gives, and
leaves everything else to it, so located errors and hostile-input checks stay as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from posture.documents import MAX_DEPTH, DocumentError, _parse_exactly, parse_document
from posture.plain_yaml import NotPlain, load_plain

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("tiers/**/*.yaml"), *ROOT.glob("plugins/*/checks/*.yaml"),
                  *ROOT.glob("posture/**/*.yaml")])

#: YAML 1.1 plain scalars of every implicit type, and look-alikes that stay text
SCALARS = [
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE",
    "false", "FALSE", "y", "Y", "n", "N", "yes please", "nope", "o", "t",
    "~", "null", "Null", "NULL", "nULL", "", "nil",
    "0", "-0", "+5", "-17", "017", "08", "0o17", "0x1F", "0x_1f", "0b101", "1_000", "190:20:30", "1:60",
    "1.5", "-1.5", "1.", ".5", "1.5e3", "1.5E+3", "1_000.5", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "190:20:30.15",
    "2025-01-31", "2025-1-31", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2025-13-45",
    "W-1", "arn:aws:s3:::bucket-*", "a b", "é ünïcode", "😀", "1-2", "1.2.3", "0x", "0b2", "12e", "-", "+", ".",
    "T", "F", "O", "Ok", "offshore", "nullable", "truthy", "10.0.0.0/8", "1:2:3:4", "0.0.0.0",
]


def exact(text: str) -> object:
    return _parse_exactly(text, Path("t.yaml"), DocumentError, as_json=False).data


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_documents_are_plain_and_read_fast_as_the_exact_reader_reads_them(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert repr(load_plain(text, MAX_DEPTH)) == repr(exact(text))  # repr: True is not 1, order counts


@pytest.mark.parametrize("scalar", SCALARS)
def test_a_plain_scalar_reads_as_ruamel_reads_it_as_value_key_and_item(scalar: str) -> None:
    for text in (f"k: {scalar}\n", f"{scalar}: v\n" if scalar else "'': v\n", f"- {scalar}\n",
                 f"[{scalar}, x]\n" if scalar else "[x]\n", f"{{k: {scalar}}}\n",
                 f'k: "{scalar}"\n', f"k: '{scalar}'\n", f"k: |\n  {scalar}\n", f"k: >-\n  {scalar}\n"):
        try:
            fast = repr(load_plain(text, MAX_DEPTH))
        except NotPlain:
            fast = None  # left to the exact reader: fine, as long as what is read fast is right
        if fast is not None:
            assert fast == repr(exact(text)), text


@pytest.mark.parametrize(("what", "text"), [
    ("an anchor and an alias", "a: &x 1\nb: *x\n"),
    ("a merge key", "a: {x: 1}\nb:\n  <<: {x: 2}\n"),
    ("a tag", "a: !!str 1\n"),
    ("a local tag", "a: !thing 1\n"),
    ("a tagged mapping", "a: !!omap [{x: 1}]\n"),
    ("a directive", "%YAML 1.2\n---\na: 1\n"),
    ("a duplicate key", "a: 1\nb: 2\na: 3\n"),
    ("a duplicate key in a flow mapping", "a: {x: 1, x: 2}\n"),
    ("a collection as a key", "? [a, b]\n: 1\n"),
    ("two documents", "a: 1\n---\nb: 2\n"),
    ("no document", ""),
    ("a comment only", "# nothing\n"),
    ("a syntax error", "a: [1, 2\n"),
    ("the value key", "a: =\n"),
    ("nesting past the limit", "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"),
])
def test_anything_but_a_plain_document_is_left_to_the_exact_reader(what: str, text: str) -> None:
    with pytest.raises(NotPlain):
        load_plain(text, MAX_DEPTH)


def test_nesting_up_to_the_limit_is_plain() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    assert repr(load_plain(text, MAX_DEPTH)) == repr(exact(text))


@pytest.mark.parametrize("text", ["a: &x 1\nb: *x\n", "a: !!str 1\nb: !!float 2\n", "a: 1e3\nb: -2E-2\n", "? [a, b]\n: 1\n"])
def test_documents_left_to_the_exact_reader_still_read_as_before(text: str) -> None:
    assert repr(parse_document(text, Path("t.yaml")).data) == repr(exact(text))


def test_a_fast_read_document_still_maps_json_paths_to_lines() -> None:
    doc = parse_document("a: 1\nb:\n  - x\n  - {c: 2}\n", Path("t.yaml"))
    assert doc.line(["b", 1, "c"]) == 4
    assert str(doc.error(["b", 0], "wrong")) == "t.yaml:3: at $.b[0]: wrong"


def test_json_duplicate_keys_and_deep_nesting_are_left_to_the_exact_reader() -> None:
    with pytest.raises(DocumentError, match=r"t.json:3: at \$.a: duplicate key 'a' on line 3 \(first on line 2\)"):
        parse_document('{\n"a": 1,\n"a": 2}\n', Path("t.json"), as_json=True)
    deep = '{"a":\n' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}\n"
    with pytest.raises(DocumentError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_document(deep, Path("t.json"), as_json=True)


def test_an_anchor_no_alias_uses_changes_nothing_and_reads_fast() -> None:
    text = "a: &x 1\nb: &y [1, {c: &z d}]\n"
    assert repr(load_plain(text, MAX_DEPTH)) == repr(exact(text)) == "{'a': 1, 'b': [1, {'c': 'd'}]}"


def test_an_exponent_without_a_dot_reads_as_a_float_without_a_warning_on_the_users_terminal() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_document("a: 1e3\nb: -2E-2\nc: 1.5e1\n", Path("t.yaml")).data == {"a": 1000.0, "b": -0.02,
                                                                                      "c": 15.0}
