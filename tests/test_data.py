import json
import re
import subprocess
import sys

import datasets
import pandas as pd
import pytest

from llm_mri_graphdb.data import corpus_fingerprint, corpus_name, load_corpus
from llm_mri_graphdb.errors import CorpusError

pytestmark = pytest.mark.unit

TEXTS = ["a good day", "a bad day", "fine weather", "awful rain"]
LABELS = ["pos", "neg", "pos", "neg"]


def _assert_corpus(ds, names=("neg", "pos"), labels=(1, 0, 1, 0), texts=TEXTS):
    assert ds.column_names == ["text", "label"]
    assert isinstance(ds.features["label"], datasets.ClassLabel)
    assert list(ds.features["label"].names) == list(names)
    assert list(ds["text"]) == list(texts)
    assert list(ds["label"]) == list(labels)


def test_load_corpus_from_dataframe_sorts_label_names():
    _assert_corpus(load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS})))


def test_load_corpus_keeps_classlabel_dataset_as_is():
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["pos", "neg"])})
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": [0, 1, 0, 1]}, features=features)
    out = load_corpus(ds)
    assert out is ds
    _assert_corpus(out, names=("pos", "neg"), labels=(0, 1, 0, 1))


def test_load_corpus_renames_columns_and_drops_others():
    ds = datasets.Dataset.from_dict({"sentence": TEXTS, "y": [10, 2, 10, 2], "id": [1, 2, 3, 4]})
    out = load_corpus(ds, text_column="sentence", label_column="y", name="s")
    _assert_corpus(out, names=("2", "10"), labels=(1, 0, 1, 0))  # integers sort numerically
    assert corpus_name(out) == "s"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_load_corpus_from_table_file(tmp_path, suffix):
    frame = pd.DataFrame({"text": TEXTS, "label": LABELS})
    path = tmp_path / f"reviews{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")))
    else:
        frame.to_parquet(path)
    out = load_corpus(path)
    _assert_corpus(out)
    assert corpus_name(out) == "reviews"


def test_load_corpus_from_saved_dataset(tmp_path):
    load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS})).save_to_disk(tmp_path / "saved")
    _assert_corpus(load_corpus(tmp_path / "saved"))


def test_load_corpus_from_text_folders(tmp_path):
    for i, (text, label) in enumerate(zip(TEXTS, LABELS)):
        (tmp_path / label).mkdir(exist_ok=True)
        (tmp_path / label / f"{i}.txt").write_text(text + "\n")
    # folders are read in label order, files in name order
    _assert_corpus(
        load_corpus(tmp_path), labels=(0, 0, 1, 1), texts=("a bad day", "awful rain", "a good day", "fine weather")
    )


def test_load_corpus_csv_keeps_na_as_text(tmp_path):
    (tmp_path / "c.csv").write_text("text,label\nNA,a\nnull,b\n")
    assert list(load_corpus(tmp_path / "c.csv")["text"]) == ["NA", "null"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"text": [], "label": []}, "corpus is empty"),
        (
            {"body": TEXTS, "label": LABELS},
            r"text column 'text' is missing; the corpus has columns \['body', 'label'\]",
        ),
        ({"text": TEXTS, "cls": LABELS}, r"label column 'label' is missing; the corpus has columns \['text', 'cls'\]"),
        ({"text": ["ok", None, "x", "y"], "label": LABELS}, r"text of row 1 must be a non-empty string; got None"),
        ({"text": ["ok", "fine", "  ", "y"], "label": LABELS}, r"text of row 2 must be a non-empty string"),
        ({"text": ["ok", "fine", 3, "y"], "label": LABELS}, r"text of row 2 must be a non-empty string; got 3"),
        ({"text": TEXTS, "label": ["pos"] * 4}, r"at least two labels; got only 'pos'"),
        ({"text": TEXTS, "label": ["pos", None, "neg", "pos"]}, r"label of row 1 is missing"),
        ({"text": TEXTS, "label": ["pos", 1, "neg", "pos"]}, "all strings or all integers"),
    ],
)
def test_load_corpus_rejects_bad_corpus(frame, message):
    with pytest.raises(CorpusError, match=message):
        load_corpus(pd.DataFrame(frame, dtype=object))


def test_load_corpus_rejects_bad_sources(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "missing.csv")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(CorpusError, match=r"must end in one of .*; got 'x.txt'"):
        load_corpus(tmp_path / "x.txt")
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": TEXTS, "label": LABELS})})
    with pytest.raises(CorpusError, match=r"DatasetDict with splits \['train'\]"):
        load_corpus(dd)
    with pytest.raises(TypeError, match="source must be a Dataset, DataFrame or path; got list"):
        load_corpus(TEXTS)


def test_corpus_fingerprint_depends_on_content_only():
    a = load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS}), name="a")
    b = load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS}), name="b")
    assert corpus_fingerprint(a) == corpus_fingerprint(b)
    other_text = load_corpus(pd.DataFrame({"text": TEXTS[:3] + ["awful  rain"], "label": LABELS}))
    other_names = load_corpus(pd.DataFrame({"text": TEXTS, "label": ["p", "n", "p", "n"]}))
    assert len({corpus_fingerprint(x) for x in (a, other_text, other_names)}) == 3


def test_corpus_fingerprint_is_stable_across_processes():
    code = (
        "import pandas as pd; from llm_mri_graphdb.data import load_corpus, corpus_fingerprint; "
        f"print(corpus_fingerprint(load_corpus(pd.DataFrame({{'text': {TEXTS!r}, 'label': {LABELS!r}}}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == corpus_fingerprint(load_corpus(pd.DataFrame({"text": TEXTS, "label": LABELS})))


def test_corpus_name_defaults_to_fingerprint_prefix():
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": LABELS})
    out = load_corpus(ds)
    assert corpus_name(out) == "corpus"
    out.info.dataset_name = None
    assert corpus_name(out) == f"corpus-{corpus_fingerprint(out)[:8]}"


def test_load_corpus_latin1_csv_names_the_file_the_byte_and_the_fix(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\u00e9 au lait,a\nth\u00e9,b\n".encode("latin-1"))
    with pytest.raises(
        CorpusError,
        match=rf"^{re.escape(str(path))}: not utf-8 text \(line 2: byte 0xe9 cannot "
        r"be decoded\); convert the file to UTF-8 .*--encoding latin-1",
    ):
        load_corpus(path)
    ds = load_corpus(path, encoding="latin-1")
    assert list(ds["text"]) == ["caf\u00e9 au lait", "th\u00e9"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"the file is empty; a CSV corpus needs a header \(e\.g\. text,label\) and one row per text"),
        (b"\n\n", r"the file holds no columns; a CSV corpus needs a header"),
        (b"text,label\n", r"corpus is empty; it must hold at least two texts"),
    ],
)
def test_load_corpus_empty_csv_names_the_file(tmp_path, content, message):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(path))}: {message}"):
        load_corpus(path)


def test_load_corpus_csv_with_unquoted_separator_names_the_row_both_counts_and_the_fix(tmp_path):
    # issue 22 finding 2: pandas turned the extra leading field into the index and every text lost its start
    path = tmp_path / "animals.csv"
    path.write_text('text,label\n"A fox, quoted",animals\nThe rabbit, hid under the bush,animals\nrain,weather\n')
    with pytest.raises(
        CorpusError,
        match=rf"^{re.escape(str(path))}: row 1 \(line 3\) has 3 fields but the header "
        r"has 2 \('text,label'\); quote every text that contains a comma",
    ):
        load_corpus(path)


def test_load_corpus_csv_row_with_too_few_fields_is_refused(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("text,label,source\na,x,web\nb,y\n")
    with pytest.raises(CorpusError, match=r"row 1 \(line 3\) has 2 fields but the header has 3"):
        load_corpus(path)


def test_load_corpus_tsv_with_extra_tab_names_tab(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("text\tlabel\na\tb\tx\nc\td\n")
    with pytest.raises(CorpusError, match=r"row 0 \(line 2\) has 3 fields .* contains a tab"):
        load_corpus(path)


def test_load_corpus_quoted_separators_and_newlines_read_exactly(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text('text,label\n"The rabbit, hid under the bush",animals\n\n"two\nlines, here",weather\n')
    ds = load_corpus(path)
    assert list(ds["text"]) == ["The rabbit, hid under the bush", "two\nlines, here"]
    assert list(ds.features["label"].names) == ["animals", "weather"]


@pytest.mark.parametrize(
    ("suffix", "content"),
    [
        (".csv", "text,label,text\na,x,b\nc,y,d\n"),
        (".tsv", "text\tlabel\ttext\na\tx\tb\nc\ty\td\n"),
        (".jsonl", '{"text": "a", "label": "x", "text": "b"}\n{"text": "c", "label": "y"}\n'),
    ],
)
def test_load_corpus_refuses_duplicate_column_names_by_name(tmp_path, suffix, content):
    path = tmp_path / f"dup{suffix}"
    path.write_text(content)
    with pytest.raises(CorpusError, match=r"names 'text' more than once; give every column a distinct name"):
        load_corpus(path)


def test_load_corpus_refuses_duplicate_dataframe_columns():
    frame = pd.DataFrame([["a", "x", "b"], ["c", "y", "d"]], columns=["text", "label", "text"])
    with pytest.raises(CorpusError, match=r"names 'text' more than once"):
        load_corpus(frame)


def test_load_corpus_jsonl_line_that_is_not_an_object_names_the_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n["b", "y"]\n')
    with pytest.raises(CorpusError, match=r"line 2 is a JSON list, not an object"):
        load_corpus(path)


def test_load_corpus_refuses_a_label_over_the_index_limit_naming_its_row():
    # issue 22 finding 5: an 8 KB label failed after extraction with Neo4j's "Property value is too large to index"
    long_label = "x" * 9000
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["pos", long_label, "neg"]})
    with pytest.raises(CorpusError, match=r"^label of row 1 is 9,000 bytes long, over the 4,096 a label may have"):
        load_corpus(frame)
    assert load_corpus(pd.DataFrame({"text": ["a", "b"], "label": ["p" * 4096, "n"]})).num_rows == 2


def test_load_corpus_refuses_a_text_over_a_mebibyte(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text(
        json.dumps({"text": "word " * 300_000, "label": "pos"})
        + "\n"
        + json.dumps({"text": "short", "label": "neg"})
        + "\n"
    )
    with pytest.raises(
        CorpusError,
        match=r"text of row 0 is 1,500,000 bytes long, over the 1,048,576 .* an "
        r"unclosed quote often swallows",
    ):
        load_corpus(path)


def test_load_corpus_csv_unclosed_quote_is_refused_not_swallowed(tmp_path):
    path = tmp_path / "unclosed.csv"
    path.write_text('text,label\n"an unclosed quote,pos\n' + "next row,neg\n" * 1000)
    with pytest.raises(CorpusError, match=r"row 0 \(line 1002\) has 1 fields but the header has 2"):
        load_corpus(path)
