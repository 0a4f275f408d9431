"""The schema of every table the stages exchange, and the only code that reads or writes them.

Each stage writes Parquet (or CSV for people) through :func:`write` and reads through
:func:`read`, so column names and types live here and nowhere else. Writes are atomic:
the table goes to a temporary file beside the target and is renamed over it, so a killed
job never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: Status of a manifest row whose image was downloaded (or found) and is usable.
OK = "ok"

#: One row per page and per image found on it (site), or per file (folder).
MANIFEST = pa.schema(
    [
        ("page", pa.int32()),  # story page number; null in folder mode
        ("index", pa.int16()),  # 1-based position of the image on its page; 0 on rows without one
        ("image", pa.string()),  # image id: PAGE_INDEX (site) or path relative to the folder
        ("url", pa.string()),  # where it came from: image URL, or the page URL for page-level rows
        ("path", pa.string()),  # local file holding the image; null when there is none
        ("bytes", pa.int64()),
        ("sha256", pa.string()),
        ("status", pa.string()),  # "ok" or why not: http_404, no_images, not_an_image, ...
    ]
)


def manifest_row(
    page: int | None,
    index: int,
    image: str,
    url: str | None,
    path: str | None,
    data: bytes | None,
    status: str,
) -> dict:
    """One row of MANIFEST: the size and sha256 of `data` (None when there is none)."""
    return {
        "page": page,
        "index": index,
        "image": image,
        "url": url,
        "path": path,
        "bytes": len(data) if data is not None else None,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
        "status": status,
    }


#: Images that could not be used by a stage after the manifest accepted them (stage
#: ``frames``), and frames of a processed image that could not be decoded (stage ``frame``:
#: the image is processed from the frames before it).
FAILURES = pa.schema(
    [
        ("image", pa.string()),
        ("path", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
    ]
)

#: Features of each kept frame (frames.select) at the comparison size (edges.width x
#: edges.height): one row per frame, the frames of an image consecutive and in file order.
#: `frame` is the frame's index in its file (0: the first). Bitmaps (the Canny edge map,
#: the black-and-white image, the silhouette and the detailed blocks of art.detailed) are
#: bit-packed little-endian into 64-bit words (see bits.pack), each with its count of set
#: bits; `grey` is the resized frame's grey levels (height x width bytes, row-major);
#: `lines` the text-line colours (textlines.signature: int8 triples, empty for none);
#: `hue` the hue histogram (colour.histogram: colour.BINS little-endian float32).
FRAME_FEATURES = pa.schema(
    [
        ("image", pa.string()),
        ("frame", pa.int32()),
        ("edge_pixels", pa.int32()),
        ("edges", pa.binary()),
        ("bw", pa.binary()),
        ("silhouette_pixels", pa.int32()),
        ("silhouette", pa.binary()),
        ("detail_blocks", pa.int16()),
        ("detail", pa.binary()),
        ("grey", pa.binary()),
        ("lines", pa.binary()),
        ("hue", pa.binary()),
    ]
)

#: The per-frame counts the matching rule reads (matching.link), and read_images returns.
FRAME_COUNTS = ("edge_pixels", "silhouette_pixels", "detail_blocks")


#: One column per configured hash method, each bit-packed like the edge maps.
#: Rows as in FRAME_FEATURES.
def hashes_schema(methods: Sequence[str]) -> pa.Schema:
    fields = [("image", pa.string()), ("frame", pa.int32())]
    return pa.schema(fields + [(m, pa.binary()) for m in methods])


def distance_type(largest: int | float) -> pa.DataType:
    """Smallest unsigned integer type that holds every distance from 0 to `largest`
    (a metric's largest value; see metrics.max_distance); float32 for a float `largest`
    (the cosine distance)."""
    if isinstance(largest, float):
        return pa.float32()
    if largest < 0:
        raise ValueError(f"largest must be >= 0, got {largest}")
    if largest <= 0xFF:
        return pa.uint8()
    if largest <= 0xFFFF:
        return pa.uint16()
    return pa.uint32()


#: Column order of a distance shard: the two images as (chunk, row) of the feature tables,
#: then one distance column per metric (types from :func:`distance_type`).
SHARD_KEYS = ["chunk_a", "row_a", "chunk_b", "row_b"]


def shard_schema(metric_max: dict[str, int]) -> pa.Schema:
    fields = [
        ("chunk_a", pa.uint16()),
        ("row_a", pa.uint32()),
        ("chunk_b", pa.uint16()),
        ("row_b", pa.uint32()),
    ]
    fields += [(m, distance_type(b)) for m, b in metric_max.items()]
    return pa.schema(fields)


#: Local features of each kept frame, per chunk (results/keypoints/NNNN.parquet; rows as
#: in FRAME_FEATURES; panelmatch.local.detect): keypoint positions (float32 x, y pairs) and ORB
#: descriptors (32 bytes each) of the frame and of its mirror image, and the dense copy (its
#: RGB bytes row-major, its drawn pixels bit-packed, its shape and scale).
KEYPOINTS = pa.schema(
    [
        ("image", pa.string()),
        ("frame", pa.int32()),
        ("xy", pa.binary()),
        ("descriptors", pa.binary()),
        ("mirror_xy", pa.binary()),
        ("mirror_descriptors", pa.binary()),
        ("dense_height", pa.int32()),
        ("dense_width", pa.int32()),
        ("dense_scale", pa.float64()),
        ("colour", pa.binary()),
        ("drawn", pa.binary()),
    ]
)

#: What local verification measured of a pair (panelmatch.local.Match): columns of
#: results/verified.parquet after a shard's, and of pairs.parquet when local.enabled.
LOCAL_FIELDS = [
    ("inliers", pa.uint16()),
    ("scale", pa.float32()),
    ("rotation", pa.float32()),
    ("mirror", pa.bool_()),
    ("shift_x", pa.float32()),
    ("shift_y", pa.float32()),
    ("cover_a", pa.float32()),
    ("cover_b", pa.float32()),
    ("moved", pa.float32()),
    ("region_cover", pa.float32()),
    ("region_area", pa.float32()),
]
#: Their names, and their values for a pair that was not verified.
LOCAL_COLUMNS = [name for name, _ in LOCAL_FIELDS]
NOT_VERIFIED = {
    "inliers": 0,
    "scale": np.nan,
    "rotation": np.nan,
    "mirror": False,
    "shift_x": np.nan,
    "shift_y": np.nan,
    "cover_a": 0.0,
    "cover_b": 0.0,
    "moved": np.nan,
    "region_cover": 0.0,
    "region_area": 0.0,
}


#: The verified candidate pairs (results/verified.parquet): a distance shard's columns for
#: every metric, then LOCAL_FIELDS.
def verified_schema(metric_max: dict[str, int]) -> pa.Schema:
    return pa.schema(list(shard_schema(metric_max)) + [pa.field(n, t) for n, t in LOCAL_FIELDS])


#: The graph's edges with all their distances (results/pairs.parquet): per pair of images,
#: the pair of their frames that matched best (rule.best_pairs) and its distances; with
#: local features (`local`), also LOCAL_FIELDS (those of a pair that was not verified:
#: NOT_VERIFIED).
def pairs_schema(metric_types: dict[str, pa.DataType], local: bool = False) -> pa.Schema:
    fields = [("image_a", pa.string()), ("image_b", pa.string())]
    fields += [("frame_a", pa.int32()), ("frame_b", pa.int32())]
    fields += [(m, t) for m, t in metric_types.items()]
    fields += [("edge_threshold", pa.float32())]
    # the link's distance over the limit of the kind that linked it (matching.link): 0 = identical
    fields += [("ratio", pa.float32())]
    # the kind of link (matching.KINDS): edge, hash, mixed, cosine, same_art, lines or local
    fields += [("link", pa.string())]
    # how the two frames are related (relation.RELATIONS): identical, recolour, ...
    fields += [("relation", pa.string())]
    if local:
        fields += LOCAL_FIELDS
    return pa.schema(fields)


#: Deep fingerprints per chunk (results/embeddings/NNNN.parquet): one L2-normalised vector
#: per image, as a list of float16 or float32 (embeddings.dtype).
def embeddings_schema(dtype: str) -> pa.Schema:
    types = {"float16": pa.float16(), "float32": pa.float32()}
    if dtype not in types:
        raise ValueError(f"dtype must be one of {sorted(types)}, got {dtype!r}")
    return pa.schema([("image", pa.string()), ("vector", pa.list_(types[dtype]))])


#: Hierarchical groups of the embeddings (results/embedding_groups.parquet).
EMBEDDING_GROUPS = pa.schema(
    [("image", pa.string()), ("group", pa.int32()), ("group_size", pa.int32())]
)

#: One row per processed image (results/groups.parquet and .csv).
GROUPS = pa.schema(
    [
        ("image", pa.string()),
        ("path", pa.string()),
        ("page", pa.int32()),
        ("group", pa.int32()),
        ("group_size", pa.int32()),
        # the group's representative: the member with the strongest links to the others
        ("medoid", pa.bool_()),
        # groups that share a template, a background or a pose (grouping.split_families)
        # share a family, numbered from 1 like groups; a group on its own is a family
        ("family", pa.int32()),
        ("family_size", pa.int32()),
    ]
)

#: Small JPEG thumbnails of each kept frame, per chunk (rows as in FRAME_FEATURES), made by the
#: features pass from the frame it decoded (frames.thumbnail).
THUMBS = pa.schema(
    [
        ("image", pa.string()),
        ("frame", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("jpeg", pa.binary()),
    ]
)


#: Each image's nearest images among the stored pairs (results/neighbours.parquet).
def neighbours_schema(metric_types: dict[str, pa.DataType]) -> pa.Schema:
    fields = [("image", pa.string()), ("rank", pa.int16()), ("neighbour", pa.string())]
    fields += [("frame", pa.int32()), ("neighbour_frame", pa.int32())]
    fields += [(m, t) for m, t in metric_types.items()]
    fields += [("edge_threshold", pa.float32()), ("linked", pa.bool_())]
    fields += [("link", pa.string())]  # the kind of link (matching.KINDS), '' when not linked
    return pa.schema(fields)


#: The entries of an input folder that are not input images (results/skipped.csv):
#: path (relative to the folder), reason (folder.SKIP_REASONS) and what was found.
SKIPPED_COLUMNS = ["path", "reason", "detail"]

#: Groups whose members come from more than one fold (results/leakage.csv).
LEAKAGE_COLUMNS = ["group", "group_size", "folds", "images"]

#: Ground truth of known reuse: images sharing a non-empty group are reuses of each other.
TRUTH = pa.schema(
    [
        ("image", pa.string()),
        ("group", pa.string()),  # empty for images that belong to no family
        ("relation", pa.string()),  # how the image relates to its family, or what it tests
        # how the image reuses its group's original (relation.RELATIONS), "original" for
        # that original, "" when unknown (scored by evaluate.relation_scores)
        ("reuse", pa.string()),
    ]
)


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


#: The process's umask, read once: a finished file gets the mode a plain open() would give
#: it (mkstemp's temporary files are private, 0600, and renaming keeps that).
UMASK = _umask()


@contextlib.contextmanager
def _atomic(path: str | os.PathLike):
    """Yield a temporary file name beside `path`; on success it is renamed onto `path`,
    with the permissions the umask allows (as a file written in place would have)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(fd, 0o666 & ~UMASK)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def staged_dir(path: str | os.PathLike):
    """Yield a new temporary folder beside `path`; on success it replaces `path`.

    A killed job leaves only a hidden staging folder, never a half-filled `path`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    os.chmod(stage, 0o777 & ~UMASK)  # mkdtemp's folders are private, 0700
    try:
        yield stage
        if target.exists():
            shutil.rmtree(target)
        os.rename(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write(frame: pd.DataFrame | pa.Table, path: str | os.PathLike, schema: pa.Schema) -> None:
    """Write `frame` to Parquet at `path` with exactly `schema`, atomically.

    Raises ValueError naming the file when a column is missing or cannot be converted.
    """
    try:
        if isinstance(frame, pd.DataFrame):
            missing = [n for n in schema.names if n not in frame.columns]
            if missing:
                raise ValueError(f"missing columns {missing}")
            table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
        else:
            table = frame.select(schema.names).cast(schema)
    except (ValueError, pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
        raise ValueError(f"{path}: table does not fit its schema: {exc}") from exc
    with _atomic(path) as tmp:
        pq.write_table(table.replace_schema_metadata(None), tmp, compression="zstd")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a CSV for people, atomically."""
    with _atomic(path) as tmp:
        frame.to_csv(tmp, index=False)


def read_csv(path: str | os.PathLike | None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A CSV the stages wrote for people (failures.csv, skipped.csv, leakage.csv), every
    value a string ('' for empty); with `columns`, exactly those columns, and an empty
    table of them for a `path` of None (a run that writes no such file)."""
    if path is None:
        return pd.DataFrame(columns=list(columns or []))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: lacks the columns {missing}")
    return frame[list(columns)]


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write a text file, atomically."""
    with _atomic(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write a binary file (an image, say), atomically."""
    with _atomic(path) as tmp:
        Path(tmp).write_bytes(data)


def kept_frames(
    edges: str | os.PathLike, manifest: str | os.PathLike
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frames a features chunk kept (the `image` and `frame` columns of its FRAME_FEATURES
    table) and the file of each image (from its MANIFEST table): what
    frames.stored_frames decodes again."""
    kept = read(edges, ["image", "frame"])
    files = read(manifest, ["image", "path"])
    return kept, dict(zip(files["image"], files["path"], strict=True))


def read(path: str | os.PathLike, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a Parquet table (optionally only some columns) as a DataFrame.

    Integer columns keep their compact types; nullable ones become pandas' nullable types.
    """
    table = pq.read_table(path, columns=list(columns) if columns is not None else None)
    return table.to_pandas(types_mapper=_nullable_ints)


def read_arrow(path: str | os.PathLike, columns: Iterable[str] | None = None) -> pa.Table:
    """Read a Parquet table (optionally only some columns) as an Arrow table: no Python
    object per value, for the wide binary columns (see :func:`fixed_binary`)."""
    return pq.read_table(path, columns=list(columns) if columns is not None else None)


def arrow(frame: pd.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    """`frame` as an Arrow table of exactly `schema` (a DataFrame is converted)."""
    if isinstance(frame, pa.Table):
        return frame.select(schema.names).cast(schema)
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def fixed_binary(table: pa.Table, column: str, width: int) -> np.ndarray:
    """A binary column whose every value is `width` bytes, as a uint8 array (rows, width),
    read straight from the Arrow buffers, a chunk at a time (joining the chunks first fails
    past 2 GB of values: Arrow's 32-bit offsets). Raises ValueError naming the column
    otherwise."""
    chunks = [_fixed(c, column, width) for c in table.column(column).chunks]
    if len(chunks) == 1:
        return chunks[0]
    return np.concatenate(chunks) if chunks else np.zeros((0, width), dtype=np.uint8)


def _fixed(values: pa.Array, column: str, width: int) -> np.ndarray:
    n = len(values)
    if values.null_count:
        raise ValueError(f"column {column!r} has missing values")
    if not n:
        return np.zeros((0, width), dtype=np.uint8)
    _, offsets, data = values.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32, count=n + 1, offset=values.offset * 4)
    if (np.diff(bounds) != width).any():
        raise ValueError(f"column {column!r} holds values that are not {width} bytes long")
    flat = np.frombuffer(data, dtype=np.uint8, count=n * width, offset=int(bounds[0]))
    return flat.reshape(n, width)


def read_many(
    paths: Iterable[str | os.PathLike], columns: Iterable[str] | None = None
) -> pd.DataFrame:
    """Concatenate several Parquet tables of one schema, in the order given."""
    cols = list(columns) if columns is not None else None
    tables = [pq.read_table(p, columns=cols) for p in paths]
    if not tables:
        raise ValueError("read_many needs at least one file")
    return pa.concat_tables(tables).to_pandas(types_mapper=_nullable_ints)


def write_vectors(images: pd.Series, vectors, path: str | os.PathLike) -> None:
    """Write one vector per image (a float16 or float32 array of shape (n, d)) atomically."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or len(vectors) != len(images):
        raise ValueError(f"{path}: need one vector per image, got shape {vectors.shape}")
    schema = embeddings_schema(str(vectors.dtype))
    flat = pa.array(vectors.reshape(-1), type=schema.field("vector").type.value_type)
    offsets = pa.array(np.arange(len(images) + 1, dtype=np.int32) * vectors.shape[1])
    column = pa.ListArray.from_arrays(offsets, flat)
    table = pa.table({"image": pa.array(list(images), pa.string()), "vector": column})
    with _atomic(path) as tmp:
        pq.write_table(table.cast(schema), tmp, compression="zstd")


def read_vectors(paths: Iterable[str | os.PathLike]):
    """The images and vectors (float32 array (n, d)) of embeddings files, in order."""
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    vectors = table.column("vector").combine_chunks()
    n = len(vectors)
    flat = vectors.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    width = len(flat) // n if n else 0
    if width * n != len(flat):
        raise ValueError("embeddings files hold vectors of different lengths")
    return table.column("image").to_numpy(zero_copy_only=False), flat.reshape(n, width)


def empty(schema: pa.Schema) -> pd.DataFrame:
    """An empty DataFrame with the columns of `schema`."""
    return schema.empty_table().to_pandas(types_mapper=_nullable_ints)


_NULLABLE = {
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
}


def _nullable_ints(dtype: pa.DataType):
    return _NULLABLE.get(dtype)


def read_images(
    edges_paths: Iterable[str | os.PathLike], columns=("image", "frame", *FRAME_COUNTS)
):
    """Every kept frame in chunk order, from the edge tables, and each chunk's offset.

    A frame's position in the returned table is its *global number*; chunk k's rows start
    at offsets[k]. With the first frame of each image only (frames.mode first), frames and
    images are the same rows.
    """
    parts = [read(p, columns) for p in edges_paths]
    offsets = np.cumsum([0] + [len(f) for f in parts]).astype(np.int64)
    return pd.concat(parts, ignore_index=True), offsets


def read_edge_codes(edges_paths: Iterable[str | os.PathLike], nbits: int) -> np.ndarray:
    """Every kept frame's bit-packed edge map (frames, words) uint64, in the order of
    :func:`read_images`, from the edge tables' ``edges`` column (nbits: width x height)."""
    width = -(-nbits // 64) * 8
    parts = [fixed_binary(read_arrow(p, ["edges"]), "edges", width) for p in edges_paths]
    joined = np.concatenate(parts) if parts else np.zeros((0, width), np.uint8)
    return joined.view("<u8").astype(np.uint64, copy=False)


def image_numbers(frame_images: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The images of frame rows (their frames consecutive), in order, and each row's image
    number: (names, image_of)."""
    values = frame_images.to_numpy(dtype=object)
    start = np.ones(len(values), dtype=bool)
    start[1:] = values[1:] != values[:-1]
    image_of = np.cumsum(start) - 1
    names = values[start]
    if len(set(names)) != len(names):
        raise ValueError("the frames of an image are not consecutive in the feature tables")
    return names, image_of.astype(np.int64)


def pair_numbers(shards: pd.DataFrame, offsets) -> tuple[np.ndarray, np.ndarray]:
    """Global numbers (a, b) of the two images of each distance-shard row."""
    offsets = np.asarray(offsets, dtype=np.int64)
    a = offsets[shards["chunk_a"].to_numpy(np.int64)] + shards["row_a"].to_numpy(np.int64)
    b = offsets[shards["chunk_b"].to_numpy(np.int64)] + shards["row_b"].to_numpy(np.int64)
    return a, b


def read_truth(path: str | os.PathLike, dont_care: str | None = None) -> pd.DataFrame:
    """Read a ground-truth CSV (columns image, group[, relation][, reuse][, the
    `dont_care` column]); names the file on error. Returns the columns of TRUTH plus
    ``family`` (the `dont_care` column's values, '' where it is absent). The values of
    ``reuse`` are checked where they are scored (panelmatch.evaluate.check_truth)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ground truth: {exc}") from exc
    for column in ("image", "group"):
        if column not in frame.columns:
            raise ValueError(f"{path}: ground truth needs a column {column!r}")
    if frame["image"].duplicated().any():
        twice = frame.loc[frame["image"].duplicated(), "image"].iloc[0]
        raise ValueError(f"{path}: image {twice!r} is listed more than once")
    for optional in ("relation", "reuse"):
        if optional not in frame.columns:
            frame[optional] = ""
    frame["family"] = frame[dont_care] if dont_care and dont_care in frame.columns else ""
    return frame[[*TRUTH.names, "family"]]
