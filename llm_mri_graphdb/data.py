"""Labelled text corpora: load from many sources, validate once, fingerprint.

Every corpus becomes a :class:`datasets.Dataset` with exactly two columns,
``text`` (str) and ``label`` (a :class:`datasets.ClassLabel`), so the stages
after this one read one shape. The corpus name travels in
``dataset.info.dataset_name``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CorpusError

__all__ = ["load_corpus", "corpus_fingerprint", "corpus_name"]

#: Longest label, in UTF-8 bytes: labels are property values in Neo4j's range indexes (keys of at most ~8 KB).
MAX_LABEL_BYTES = 4096
#: Largest text, in UTF-8 bytes (1 MiB); a model reads far less, and a larger one is almost always a misread file.
MAX_TEXT_CHARS = 1 << 20

_TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def load_corpus(
    source: Any,
    text_column: str = "text",
    label_column: str = "label",
    *,
    name: str | None = None,
    encoding: str = "utf-8",
):
    """Load a labelled corpus as a ``Dataset`` with ``text`` and ``label`` (ClassLabel) columns.

    Parameters
    ----------
    source : Dataset, pandas.DataFrame, str or path
        A Hugging Face ``Dataset`` (ClassLabel, string or integer labels); a
        ``.csv``/``.tsv``/``.jsonl``/``.parquet`` file; a folder saved by
        ``Dataset.save_to_disk``; or a folder holding one sub-folder of
        ``.txt`` files per label (the sub-folder name is the label).
    text_column, label_column : str, default="text", "label"
        Columns to read; renamed to ``text`` and ``label``. Other columns are dropped.
    name : str or None, default=None
        Corpus name; defaults to the file or folder stem, or the dataset's own name.
    encoding : str, default="utf-8"
        Text encoding of CSV, TSV, JSONL and ``.txt`` files.

    Returns
    -------
    dataset : datasets.Dataset
        String and integer labels become a ClassLabel whose names are the
        sorted distinct values (integers sorted numerically).

    Raises
    ------
    CorpusError
        Empty corpus, missing column (the present ones are named), a text that
        is not a non-empty string (its row is named), a missing label, or
        fewer than two labels. For a file, the message starts with its path,
        and an undecodable or empty file says so and names the fix.
    """
    import datasets

    if isinstance(source, datasets.DatasetDict):
        raise CorpusError(f"source is a DatasetDict with splits {list(source)}; pass one split, e.g. source['train'].")
    if isinstance(source, datasets.Dataset):
        return _from_dataset(source, text_column, label_column, name or source.info.dataset_name)
    if _is_dataframe(source):
        return _from_columns(_columns_of(source, text_column, label_column), name or "corpus")
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a Dataset, DataFrame or path; got {type(source).__name__}.")
    path = Path(source).expanduser()
    if not path.exists():
        raise CorpusError(f"corpus path {str(path)!r} does not exist.")
    name = name or path.stem
    try:
        if path.is_dir():
            if (path / "dataset_info.json").is_file() or (path / "state.json").is_file():
                loaded = datasets.load_from_disk(str(path))
                return load_corpus(loaded, text_column, label_column, name=name)
            return _from_text_folders(path, name, encoding)
        kind = _TABLE_SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise CorpusError(f"corpus file must end in one of {sorted(_TABLE_SUFFIXES)}; got {path.name!r}.")
        return _from_columns(_columns_of(_read_table(path, kind, encoding), text_column, label_column), name)
    except CorpusError as exc:
        raise CorpusError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: {_undecodable(path, encoding)}") from None


def corpus_fingerprint(dataset) -> str:
    """SHA-256 of the texts, labels and label names; equal content gives an equal hash in any process."""
    h = hashlib.sha256(b"corpus-v1\0")
    h.update(json.dumps(list(dataset.features["label"].names)).encode())
    for text in dataset["text"]:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    h.update(np.asarray(list(dataset["label"]), dtype="<i8").tobytes())
    return h.hexdigest()


def corpus_name(dataset) -> str:
    """The corpus name given at load time, else ``corpus-<first 8 hex of the fingerprint>``."""
    return dataset.info.dataset_name or f"corpus-{corpus_fingerprint(dataset)[:8]}"


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")


def _undecodable(path: Path, encoding: str) -> str:
    """Where a file stops being ``encoding`` text, and the fix (pandas reports offsets within a chunk)."""
    files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
    for file in files:
        raw = file.read_bytes()
        try:
            raw.decode(encoding)
        except UnicodeDecodeError as exc:
            where = "" if file == path else f"{file.relative_to(path)}, "
            line = raw.count(b"\n", 0, exc.start) + 1
            return (
                f"not {encoding} text ({where}line {line}: byte 0x{raw[exc.start]:02x} cannot be decoded); "
                "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8) or pass its encoding "
                "(encoding='latin-1', --encoding latin-1)."
            )
    return f"not {encoding} text; convert it to UTF-8 or pass its encoding (--encoding)."


def _read_table(path: Path, kind: str, encoding: str = "utf-8"):
    import pandas as pd

    if path.stat().st_size == 0:
        raise CorpusError(
            f"the file is empty; a {kind.upper()} corpus needs a header (e.g. text,label) and one row per text."
        )
    try:
        if kind in ("csv", "tsv"):  # keep "NA" etc. as text: only a truly empty cell is missing
            sep = "\t" if kind == "tsv" else ","
            _check_fields(path, sep, encoding)
            # index_col=False: a row with extra fields is never turned into an index (checked above anyway)
            return pd.read_csv(path, sep=sep, keep_default_na=False, na_values=[""], encoding=encoding, index_col=False)
        if kind == "jsonl":
            _check_json_lines(path, encoding)
            return pd.read_json(path, lines=True, dtype=False, encoding=encoding)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise CorpusError(
            f"the file holds no columns; a {kind.upper()} corpus needs a header (e.g. text,label) and one row per text."
        ) from None
    except pd.errors.ParserError as exc:
        cause = " ".join(str(exc).split())
        raise CorpusError(f"not a readable {kind.upper()} file ({cause}); check its quoting and separators.") from None


def _check_fields(path: Path, sep: str, encoding: str) -> None:
    """Refuse a delimited file that cannot be read exactly: a duplicate header name, or a row whose number
    of fields differs from the header's (pandas would shift it into an index or pad it silently)."""
    import csv

    limit = csv.field_size_limit((1 << 31) - 1)  # as pandas: any field size (a huge one is refused later)
    try:
        _count_fields(path, sep, encoding)
    finally:
        csv.field_size_limit(limit)


def _count_fields(path: Path, sep: str, encoding: str) -> None:
    import csv

    with open(path, newline="", encoding=encoding) as fh:
        reader = csv.reader(fh, delimiter=sep, quotechar='"', doublequote=True, strict=False)
        header = None
        row = -1
        for fields in reader:
            if not fields:
                continue  # a blank line (pandas skips it too)
            if header is None:
                header = fields
                _refuse_duplicates(header, "header")
                continue
            row += 1
            if len(fields) != len(header):
                name = "tab" if sep == "\t" else "comma"
                raise CorpusError(
                    f"row {row} (line {reader.line_num}) has {len(fields)} fields but the header has "
                    f"{len(header)} ({sep.join(header)!r}); quote every text that contains a {name} "
                    f'(e.g. "The rabbit, hid",animals) or fix the row.'
                )


def _refuse_duplicates(names: list, where: str) -> None:
    seen, duplicates = set(), []
    for name in (str(n) for n in names):
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise CorpusError(
            f"the {where} names {', '.join(repr(d) for d in duplicates)} more than once; "
            "give every column a distinct name."
        )


def _check_json_lines(path: Path, encoding: str) -> None:
    """Refuse a JSON Lines file whose line is not an object or repeats a key (``json`` keeps the last)."""

    def pairs(items: list) -> dict:
        _refuse_duplicates([key for key, _ in items], f"object on line {line}")
        return dict(items)

    with open(path, encoding=encoding) as fh:
        for line, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw, object_pairs_hook=pairs)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"line {line} is not JSON ({exc.msg}); write one JSON object per line.") from None
            if not isinstance(value, dict):
                raise CorpusError(
                    f"line {line} is a JSON {type(value).__name__}, not an object; write one object "
                    'per line, e.g. {"text": "...", "label": "..."}.'
                )


def _columns_of(frame, text_column: str, label_column: str) -> tuple[list, list]:
    present = [str(c) for c in frame.columns]
    _refuse_duplicates(present, "table's header")
    for role, col in (("text", text_column), ("label", label_column)):
        if col not in present:
            raise CorpusError(
                f"{role} column {col!r} is missing; the corpus has columns {present}: name one "
                f"with {role}_column= (--{role}-column)."
            )
    labels = [None if _is_missing(v) else (v.item() if hasattr(v, "item") else v) for v in frame[label_column]]
    texts = [None if _is_missing(v) else v for v in frame[text_column]]
    return texts, labels


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _from_dataset(ds, text_column: str, label_column: str, name: str | None):
    import datasets

    present = list(ds.column_names)
    for role, col in (("text", text_column), ("label", label_column)):
        if col not in present:
            raise CorpusError(
                f"{role} column {col!r} is missing; the corpus has columns {present}: name one "
                f"with {role}_column= (--{role}-column)."
            )
    feature = ds.features[label_column]
    texts = list(ds[text_column])
    labels = list(ds[label_column])
    if isinstance(feature, datasets.ClassLabel):
        _check(texts, labels, list(feature.names))
        if present == ["text", "label"] and text_column == "text" and name == ds.info.dataset_name:
            return ds  # already in shape: keep it as is, no copy
        return _build(texts, labels, list(feature.names), name)
    return _from_columns((texts, labels), name or "corpus")


def _from_text_folders(path: Path, name: str, encoding: str = "utf-8"):
    texts, labels = [], []
    names = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    for label in names:
        for file in sorted((path / label).glob("*.txt")):
            texts.append(file.read_text(encoding=encoding).strip())
            labels.append(label)
    if not texts:
        raise CorpusError(f"corpus folder {str(path)!r} has no <label>/*.txt files.")
    return _from_columns((texts, labels), name)


def _from_columns(columns: tuple[list, list], name: str | None):
    texts, raw = columns
    for i, value in enumerate(raw):
        if value is None:
            raise CorpusError(f"label of row {i} is missing.")
        if isinstance(value, float) and value.is_integer():
            raw[i] = value = int(value)
        if not isinstance(value, (str, int, np.integer)):
            raise CorpusError(f"label of row {i} must be a string or an integer; got {value!r}.")
    kinds = {isinstance(v, str) for v in raw}
    if len(kinds) > 1:
        raise CorpusError("labels must be all strings or all integers; got a mix.")
    distinct = sorted(set(raw))
    label_names = [str(v) for v in distinct]
    index = {v: i for i, v in enumerate(distinct)}
    labels = [index[v] for v in raw]
    _check(texts, labels, label_names)
    return _build(texts, labels, label_names, name)


def _check(texts: list, labels: list, label_names: list[str]) -> None:
    if not texts:
        raise CorpusError("corpus is empty; it must hold at least two texts with two different labels.")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(f"text of row {i} must be a non-empty string; got {text!r}.")
        if len(text) > MAX_TEXT_CHARS // 4 and len(text.encode("utf-8")) > MAX_TEXT_CHARS:
            raise CorpusError(
                f"text of row {i} is {len(text.encode('utf-8')):,} bytes long, over the "
                f"{MAX_TEXT_CHARS:,} a text may have; an unclosed quote often swallows the rest of a "
                "file into one text: check the quoting near that row, or split the text."
            )
    for index, name in enumerate(label_names):
        size = len(str(name).encode("utf-8"))
        if size > MAX_LABEL_BYTES:
            row = next((i for i, label in enumerate(labels) if label is not None and int(label) == index), None)
            raise CorpusError(
                f"label of row {row} is {size:,} bytes long, over the {MAX_LABEL_BYTES:,} a label may "
                "have (labels are indexed in Neo4j); use a short class name (a label column may have "
                "been swapped with the text column: check --text-column/--label-column)."
            )
    for i, label in enumerate(labels):
        if label is None or not 0 <= int(label) < len(label_names):
            raise CorpusError(f"label of row {i} must index {label_names}; got {label!r}.")
    used = sorted(set(int(v) for v in labels))
    if len(used) < 2:
        only = label_names[used[0]] if used else None
        raise CorpusError(f"corpus must hold at least two labels; got only {only!r}.")


def _build(texts: list[str], labels: list[int], label_names: list[str], name: str | None):
    import datasets

    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=label_names)})
    info = datasets.DatasetInfo(dataset_name=name, features=features)
    return datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features, info=info)
