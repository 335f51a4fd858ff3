//! GGUF verification before a model file is installed or loaded: the magic, a supported
//! version, header counts a file of that size can hold, the metadata and tensor-info
//! sections parsed to their end (with `general.alignment`, default 32), and the file long
//! enough for the tensor data the header describes. A download cut short or a hostile header
//! is refused here with a clear reason instead of reaching llama.cpp.
//!
//! See: the GGUF spec (<https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>) and
//! `ggml/src/gguf.cpp`, whose checks this follows; type sizes are ggml's `type_traits`.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::catalogue::ModelError;

/// The file magic.
const MAGIC: &[u8; 4] = b"GGUF";
/// `general.alignment` when the file does not set it.
const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml tensors have at most this many dimensions.
const MAX_DIMS: u32 = 4;
/// Names (metadata keys, tensor names) longer than this are not a real model's.
const MAX_NAME: u64 = 64 * 1024;

/// What the header says, once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GgufInfo {
    /// Format version (2 or 3).
    pub version: u32,
    /// Number of tensors.
    pub tensors: u64,
    /// Number of metadata entries.
    pub metadata: u64,
    /// Alignment of the data section.
    pub alignment: u64,
    /// Byte offset where the tensor data starts.
    pub data_start: u64,
    /// Byte offset where the last tensor's data ends: the file must be at least this long.
    pub data_end: u64,
    /// The file's size.
    pub file_size: u64,
}

/// Block size (elements) and bytes per block of a ggml tensor type; `None` for a type this
/// build does not know (a newer file), whose size then is not checked.
fn type_size(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        24 => (1, 1),          // I8
        1 | 25 | 30 => (1, 2), // F16, I16, BF16
        0 | 26 => (1, 4),      // F32, I32
        27 | 28 => (1, 8),     // I64, F64
        39 => (32, 17),        // MXFP4
        2 | 20 => (32, 18),    // Q4_0, IQ4_NL
        3 => (32, 20),         // Q4_1
        6 => (32, 22),         // Q5_0
        7 => (32, 24),         // Q5_1
        8 => (32, 34),         // Q8_0
        9 => (32, 36),         // Q8_1
        42 => (64, 18),        // Q2_0
        40 => (64, 36),        // NVFP4
        41 => (128, 18),       // Q1_0
        19 => (256, 50),       // IQ1_S
        34 => (256, 54),       // TQ1_0
        29 => (256, 56),       // IQ1_M
        16 | 35 => (256, 66),  // IQ2_XXS, TQ2_0
        17 => (256, 74),       // IQ2_XS
        22 => (256, 82),       // IQ2_S
        10 => (256, 84),       // Q2_K
        18 => (256, 98),       // IQ3_XXS
        11 | 21 => (256, 110), // Q3_K, IQ3_S
        23 => (256, 136),      // IQ4_XS
        12 => (256, 144),      // Q4_K
        13 => (256, 176),      // Q5_K
        14 => (256, 210),      // Q6_K
        15 => (256, 292),      // Q8_K
        _ => return None,
    })
}

/// A reader that knows how much of the file is left, so no length read from the file is
/// trusted beyond it.
struct Reader {
    inner: BufReader<File>,
    pos: u64,
    size: u64,
}

/// Why a file was refused (becomes `ModelError::Invalid`'s reason).
type Reason = String;

impl Reader {
    fn truncated(&self) -> Reason {
        format!(
            "the file is truncated: it ends inside the GGUF header at byte {} ({} bytes; an \
             interrupted download or copy)",
            self.pos, self.size
        )
    }

    fn left(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Reason> {
        let mut b = [0u8; N];
        match self.inner.read_exact(&mut b) {
            Ok(()) => {
                self.pos += N as u64;
                Ok(b)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(self.truncated()),
            Err(e) => Err(format!("cannot read it: {e}")),
        }
    }

    fn u32(&mut self) -> Result<u32, Reason> {
        self.bytes::<4>().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, Reason> {
        self.bytes::<8>().map(u64::from_le_bytes)
    }

    fn skip(&mut self, n: u64) -> Result<(), Reason> {
        if n > self.left() {
            self.pos = self.size;
            return Err(self.truncated());
        }
        let step = i64::try_from(n).map_err(|_| self.truncated())?;
        self.inner
            .seek_relative(step)
            .map_err(|e| format!("cannot read it: {e}"))?;
        self.pos += n;
        Ok(())
    }

    /// A length-prefixed string's length, checked against what is left of the file.
    fn string_len(&mut self) -> Result<u64, Reason> {
        let n = self.u64()?;
        if n > self.left() {
            return Err(self.truncated());
        }
        Ok(n)
    }

    /// A name (metadata key, tensor name), lossily decoded.
    fn name(&mut self, what: &str) -> Result<String, Reason> {
        let n = self.string_len()?;
        if n > MAX_NAME {
            return Err(format!(
                "a {what} of {n} bytes at byte {} (a corrupt or hostile header)",
                self.pos
            ));
        }
        let mut b = vec![0u8; n as usize];
        self.inner
            .read_exact(&mut b)
            .map_err(|_| self.truncated())?;
        self.pos += n;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Skips one metadata value of type `t` (arrays of scalars or strings, not nested).
    fn skip_value(&mut self, key: &str, t: u32, in_array: bool) -> Result<(), Reason> {
        match t {
            0 | 1 | 7 => self.skip(1),
            2 | 3 => self.skip(2),
            4..=6 => self.skip(4),
            10..=12 => self.skip(8),
            8 => {
                let n = self.string_len()?;
                self.skip(n)
            }
            9 if !in_array => {
                let elem = self.u32()?;
                let count = self.u64()?;
                let min = match elem {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    8 | 10..=12 => 8,
                    _ => {
                        return Err(format!(
                            "metadata entry `{key}` is an array of unknown type {elem}"
                        ));
                    }
                };
                if count.saturating_mul(min) > self.left() {
                    return Err(format!(
                        "metadata entry `{key}` claims {count} elements, more than the file \
                         holds (truncated, or a corrupt header)"
                    ));
                }
                if elem == 8 {
                    for _ in 0..count {
                        let n = self.string_len()?;
                        self.skip(n)?;
                    }
                    Ok(())
                } else {
                    self.skip(count * min)
                }
            }
            _ => Err(format!("metadata entry `{key}` has unknown type {t}")),
        }
    }
}

fn round_up(x: u64, align: u64) -> Option<u64> {
    x.checked_add(align - 1).map(|v| v / align * align)
}

/// Parses the header of the GGUF file at `path` and checks it against the file's size.
pub fn inspect(path: &Path) -> Result<GgufInfo, Reason> {
    let file = File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?
        .len();
    let mut r = Reader {
        inner: BufReader::with_capacity(64 * 1024, file),
        pos: 0,
        size,
    };
    if size == 0 {
        return Err("the file is empty".into());
    }
    let magic = r.bytes::<4>().map_err(|_| {
        "it does not start with the GGUF magic bytes (wrong file, or an HTML error page)"
            .to_string()
    })?;
    if &magic != MAGIC {
        return Err(
            "it does not start with the GGUF magic bytes (wrong file, or an HTML error page)"
                .into(),
        );
    }
    if size < 24 {
        return Err(format!("the file is truncated ({size} bytes)"));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(format!("unsupported GGUF version {version}"));
    }
    let tensors = r.u64()?;
    let metadata = r.u64()?;
    // Each tensor info takes at least 24 bytes, each metadata entry at least 13.
    if tensors
        .saturating_mul(24)
        .saturating_add(metadata.saturating_mul(13))
        > r.left()
    {
        return Err(format!(
            "the header claims {tensors} tensors and {metadata} metadata entries, more than a \
             {size}-byte file can hold (truncated, or a corrupt or hostile header)"
        ));
    }
    let mut alignment = DEFAULT_ALIGNMENT;
    for _ in 0..metadata {
        let key = r.name("metadata key")?;
        let t = r.u32()?;
        if key == "general.alignment" && t == 4 {
            alignment = u64::from(r.u32()?);
            if alignment == 0 || !alignment.is_power_of_two() {
                return Err(format!(
                    "general.alignment is {alignment}, not a power of two"
                ));
            }
        } else {
            r.skip_value(&key, t, false)?;
        }
    }
    let mut data_len: u64 = 0;
    for _ in 0..tensors {
        let name = r.name("tensor name")?;
        let dims = r.u32()?;
        if dims > MAX_DIMS {
            return Err(format!(
                "tensor `{name}` has {dims} dimensions (ggml allows {MAX_DIMS})"
            ));
        }
        let mut elements: u64 = 1;
        for _ in 0..dims {
            let d = r.u64()?;
            elements = elements
                .checked_mul(d)
                .filter(|&e| i64::try_from(e).is_ok())
                .ok_or_else(|| format!("tensor `{name}` has an impossible shape"))?;
        }
        let t = r.u32()?;
        let offset = r.u64()?;
        if offset % alignment != 0 {
            return Err(format!(
                "tensor `{name}` starts at offset {offset}, not a multiple of the alignment \
                 {alignment}"
            ));
        }
        let bytes = match type_size(t) {
            Some((block, per_block)) => (elements / block)
                .checked_mul(per_block)
                .ok_or_else(|| format!("tensor `{name}` is impossibly large"))?,
            None => 0,
        };
        let end = offset
            .checked_add(bytes)
            .ok_or_else(|| format!("tensor `{name}` is impossibly large"))?;
        data_len = data_len.max(end);
    }
    let data_start = if tensors > 0 {
        round_up(r.pos, alignment).ok_or_else(|| "the header is impossibly large".to_string())?
    } else {
        r.pos
    };
    let data_end = data_start
        .checked_add(data_len)
        .ok_or_else(|| "the tensor data is impossibly large".to_string())?;
    if data_end > size {
        return Err(format!(
            "the file is truncated: its {tensors} tensors need {data_end} bytes but it has only \
             {size} (an interrupted download or copy)"
        ));
    }
    Ok(GgufInfo {
        version,
        tensors,
        metadata,
        alignment,
        data_start,
        data_end,
        file_size: size,
    })
}

/// [`inspect`] as the catalogue needs it: the file's size, or [`ModelError::Invalid`] with
/// the reason and how to fix it.
pub fn check(path: &Path) -> Result<u64, ModelError> {
    inspect(path)
        .map(|i| i.file_size)
        .map_err(|reason| ModelError::Invalid {
            path: path.to_path_buf(),
            reason,
            fix: "Delete it (`aiw model rm`) and install it again (`aiw model pull NAME` or \
                  `aiw model import FILE`)"
                .to_string(),
        })
}

/// Builds GGUF bytes (test support): metadata entries (`key`, type, raw value bytes) and
/// tensors (`name`, dims, type) laid out one after the other with `alignment`, followed by
/// zeroed tensor data.
#[cfg(test)]
pub(crate) fn build(
    metadata: &[(&str, u32, Vec<u8>)],
    tensors: &[(&str, &[u64], u32)],
    alignment: u64,
) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    b.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    let string = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u64).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    };
    for (k, t, v) in metadata {
        string(&mut b, k);
        b.extend_from_slice(&t.to_le_bytes());
        b.extend_from_slice(v);
    }
    let mut offset = 0u64;
    let mut total = 0u64;
    for (name, dims, t) in tensors {
        string(&mut b, name);
        b.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in *dims {
            b.extend_from_slice(&d.to_le_bytes());
        }
        b.extend_from_slice(&t.to_le_bytes());
        b.extend_from_slice(&offset.to_le_bytes());
        let (block, per) = type_size(*t).expect("known type in tests");
        let n = dims.iter().product::<u64>() / block * per;
        total = offset + n;
        offset = round_up(total, alignment).expect("small");
    }
    if !tensors.is_empty() {
        let start = round_up(b.len() as u64, alignment).expect("small");
        b.resize(start as usize, 0);
        b.resize((start + total) as usize, 0);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn write(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.gguf");
        std::fs::write(&p, bytes).unwrap();
        (dir, p)
    }

    fn tiny() -> Vec<u8> {
        // Type 9 = array; the value is element type, count, elements.
        let mut arr = 8u32.to_le_bytes().to_vec();
        arr.extend_from_slice(&2u64.to_le_bytes());
        for t in ["<s>", "hello"] {
            arr.extend_from_slice(&(t.len() as u64).to_le_bytes());
            arr.extend_from_slice(t.as_bytes());
        }
        let mut name = (5u64).to_le_bytes().to_vec();
        name.extend_from_slice(b"llama");
        build(
            &[
                ("general.architecture", 8, name),
                ("general.alignment", 4, 64u32.to_le_bytes().to_vec()),
                ("tokenizer.ggml.tokens", 9, arr),
                ("llama.block_count", 4, 1u32.to_le_bytes().to_vec()),
            ],
            &[
                ("tok_embd", &[64, 2], 0),
                ("blk.0.q", &[256, 2], 12),
                ("out", &[32], 8),
            ],
            64,
        )
    }

    #[test]
    fn a_valid_file_is_measured_exactly() {
        let bytes = tiny();
        let (_d, p) = write(&bytes);
        let info = inspect(&p).unwrap();
        assert_eq!(info.tensors, 3);
        assert_eq!(info.metadata, 4);
        assert_eq!(info.alignment, 64);
        assert_eq!(info.data_start % 64, 0);
        assert_eq!(info.data_end, bytes.len() as u64);
        assert_eq!(check(&p).unwrap(), bytes.len() as u64);
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = tiny();
        for cut in [1, 4, 10, 23, 24, 40, 100, bytes.len() / 2, bytes.len() - 1] {
            let (_d, p) = write(&bytes[..cut]);
            let e = check(&p).unwrap_err().to_string();
            assert!(
                e.contains("truncated") || e.contains("GGUF magic"),
                "cut at {cut}: {e}"
            );
            assert!(e.contains("aiw model"), "{e}");
        }
    }

    #[test]
    fn hostile_headers_are_refused_without_allocating() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&[0; 64]);
        let (_d, p) = write(&b);
        assert!(inspect(&p).unwrap_err().contains("more than a"));
        // A key claiming to be 2^40 bytes long.
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&0u64.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        b.extend_from_slice(&[0; 64]);
        let (_d, p) = write(&b);
        assert!(inspect(&p).unwrap_err().contains("truncated"));
        // Version 1 and unknown versions.
        let mut b = tiny();
        b[4] = 1;
        let (_d, p) = write(&b);
        assert!(inspect(&p).unwrap_err().contains("version 1"));
        let bad_align = build(
            &[("general.alignment", 4, 3u32.to_le_bytes().to_vec())],
            &[],
            32,
        );
        let (_d, p) = write(&bad_align);
        assert!(inspect(&p).unwrap_err().contains("power of two"));
    }

    #[test]
    fn the_real_test_model_passes_and_its_truncated_copy_does_not() {
        let model = crate::provider::local::tests::model_path();
        let info = inspect(&model).unwrap();
        assert!(info.tensors > 10, "{info:?}");
        assert!(info.data_end <= info.file_size);
        assert!(
            info.file_size - info.data_end < info.alignment,
            "the data ends at the end of the file: {info:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("cut.gguf");
        let mut src = File::open(&model).unwrap();
        let mut dst = File::create(&cut).unwrap();
        io::copy(&mut (&mut src).take(info.data_end - 1), &mut dst).unwrap();
        drop(dst);
        let e = inspect(&cut).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512), n in any::<u8>()) {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&3u32.to_le_bytes());
            b.extend_from_slice(&u64::from(n % 4).to_le_bytes());
            b.extend_from_slice(&u64::from(n / 64).to_le_bytes());
            b.extend_from_slice(&tail);
            let (_d, p) = write(&b);
            let _ = inspect(&p);
        }

        #[test]
        fn corrupting_a_valid_file_never_panics(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut b = tiny();
            let i = pos.index(b.len());
            b[i] = byte;
            let (_d, p) = write(&b);
            let _ = inspect(&p);
        }
    }
}
