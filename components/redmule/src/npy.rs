//! Minimal NumPy `.npy` (format 1.0) reading and writing for matrices: 2-D, C order,
//! dtypes `<f2` (FP16) and `|u1` (FP8 bit patterns, one byte per element).

use std::path::Path;

/// A 2-D array of raw little-endian element bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Npy {
    pub rows: usize,
    pub cols: usize,
    /// `"<f2"` or `"|u1"`.
    pub descr: String,
    pub data: Vec<u8>,
}

impl Npy {
    pub fn elem_bytes(&self) -> usize {
        if self.descr == "<f2" {
            2
        } else {
            1
        }
    }

    /// Serialize to `.npy` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut header = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': ({}, {}), }}",
            self.descr, self.rows, self.cols
        );
        // Pad so that magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
        let total = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - total % 64) % 64));
        header.push('\n');
        let mut out = Vec::with_capacity(10 + header.len() + self.data.len());
        out.extend_from_slice(b"\x93NUMPY\x01\x00");
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, self.to_bytes()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse `.npy` bytes; `what` names the file in errors.
    pub fn parse(b: &[u8], what: &str) -> Result<Npy, String> {
        if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
            return Err(format!("{what}: not a .npy file (bad magic)"));
        }
        let (hlen, hstart) = match b[6] {
            1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
            2 | 3 if b.len() >= 12 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
            v => return Err(format!("{what}: unsupported .npy version {v}")),
        };
        let header = b
            .get(hstart..hstart + hlen)
            .ok_or_else(|| format!("{what}: truncated header"))
            .and_then(|h| {
                std::str::from_utf8(h).map_err(|_| format!("{what}: header is not text"))
            })?;
        let descr = field(header, "descr")
            .ok_or_else(|| format!("{what}: header has no 'descr'"))?
            .trim_matches(['\'', '"'])
            .to_string();
        let descr = match descr.as_str() {
            "<f2" | "f2" => "<f2".to_string(),
            "|u1" | "u1" | "<u1" | "|i1" => "|u1".to_string(),
            d => {
                return Err(format!(
                    "{what}: dtype '{d}' is not supported (expected float16 '<f2' or uint8 '|u1')"
                ))
            }
        };
        if field(header, "fortran_order").is_some_and(|v| v.trim() == "True") {
            return Err(format!("{what}: Fortran-order arrays are not supported"));
        }
        let shape = header
            .find("'shape':")
            .and_then(|i| header[i..].find('(').map(|j| i + j))
            .and_then(|i| header[i..].find(')').map(|j| &header[i + 1..i + j]))
            .ok_or_else(|| format!("{what}: header has no 'shape'"))?;
        let dims: Vec<usize> = shape
            .split(',')
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| format!("{what}: bad shape '{shape}'"))
            })
            .collect::<Result<_, _>>()?;
        let (rows, cols) = match dims.as_slice() {
            [r, c] => (*r, *c),
            [n] => (1, *n),
            _ => return Err(format!("{what}: expected a 2-D array, shape ({shape})")),
        };
        let eb = if descr == "<f2" { 2 } else { 1 };
        let data = &b[hstart + hlen..];
        if data.len() != rows * cols * eb {
            return Err(format!(
                "{what}: {} data bytes for shape ({rows}, {cols}) of {descr}, expected {}",
                data.len(),
                rows * cols * eb
            ));
        }
        Ok(Npy {
            rows,
            cols,
            descr,
            data: data.to_vec(),
        })
    }

    pub fn read(path: &Path) -> Result<Npy, String> {
        let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Npy::parse(&b, &path.display().to_string())
    }
}

fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let i = header.find(&format!("'{key}':"))? + key.len() + 3;
    let rest = &header[i..];
    let end = rest.find(',').unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip_and_alignment() {
        let a = Npy {
            rows: 2,
            cols: 3,
            descr: "<f2".into(),
            data: (0..12).collect(),
        };
        let b = a.to_bytes();
        assert_eq!((b.len() - 12) % 64, 0);
        assert_eq!(Npy::parse(&b, "t").unwrap(), a);
        assert!(Npy::parse(b"junk", "t").unwrap_err().contains("bad magic"));
    }
}
