//! TIFF structure: the first IFD's entries, shared by TIFF files and EXIF payloads in other containers.

use super::*;

/// A minimal reader of a TIFF structure's first IFD, shared by TIFF files and EXIF payloads.
pub(super) struct Ifd<'a> {
    b: &'a [u8],
    le: bool,
    entries: usize,
    at: usize,
}

impl<'a> Ifd<'a> {
    pub(super) fn first(b: &'a [u8]) -> Option<Ifd<'a>> {
        let le = match b.get(0..4)? {
            b"II*\0" => true,
            b"MM\0*" => false,
            _ => return None,
        };
        let mut ifd = Ifd { b, le, entries: 0, at: 0 };
        let off = ifd.u32(4)? as usize;
        ifd.entries = ifd.u16(off)? as usize;
        ifd.at = off + 2;
        Some(ifd)
    }
    pub(super) fn u16(&self, at: usize) -> Option<u16> {
        if self.le { le16(self.b, at) } else { be16(self.b, at) }
    }
    pub(super) fn u32(&self, at: usize) -> Option<u32> {
        if self.le { le32(self.b, at) } else { be32(self.b, at) }
    }
    /// The first value of an integer tag. Writers disagree on the type (orientation has been seen
    /// as SLONG in the wild), so signed and byte types are read too.
    pub(super) fn value(&self, tag: u16) -> Option<u32> {
        (0..self.entries.min(4096)).find_map(|n| {
            let e = self.at + n * 12;
            if self.u16(e)? != tag {
                return None;
            }
            match self.u16(e + 2)? {
                1 | 6 | 7 => self.b.get(e + 8).map(|v| u32::from(*v)),
                3 | 8 => self.u16(e + 8).map(u32::from),
                4 | 9 => self.u32(e + 8),
                _ => None,
            }
        })
    }
    pub(super) fn has(&self, tag: u16) -> bool {
        (0..self.entries.min(4096)).any(|n| self.u16(self.at + n * 12) == Some(tag))
    }
}

/// Where IFD0's SHORT entry `tag` keeps its value (a byte offset into `b`), and the value.
pub(crate) fn tiff_short_entry(b: &[u8], tag: u16) -> Option<(usize, u16)> {
    let ifd = Ifd::first(b)?;
    let e = (0..ifd.entries.min(4096)).map(|n| ifd.at + n * 12).find(|&e| ifd.u16(e) == Some(tag) && ifd.u16(e + 2) == Some(3))?;
    Some((e + 8, ifd.u16(e + 8)?))
}

/// EXIF orientation (tag 0x0112) from TIFF-structured data, when it is 1..=8.
pub(crate) fn tiff_orientation(b: &[u8]) -> Option<u8> {
    let o = Ifd::first(b)?.value(0x0112)?;
    (1..=8).contains(&o).then_some(o as u8)
}

pub(super) fn tiff_header(b: &[u8]) -> Result<SourceInfo, EngineError> {
    let ifd = Ifd::first(b).ok_or_else(|| corrupt("truncated TIFF header"))?;
    let w = ifd.value(256).ok_or_else(|| corrupt("TIFF without ImageWidth"))?;
    let h = ifd.value(257).ok_or_else(|| corrupt("TIFF without ImageLength"))?;
    let orientation = ifd.value(0x0112).filter(|o| (1..=8).contains(o)).unwrap_or(1) as u8;
    // ExtraSamples marks an alpha (or other extra) channel.
    let has_alpha = ifd.has(338);
    Ok(SourceInfo { format: InputFormat::Tiff, width: w, height: h, orientation, has_alpha, frames: 1, plays: 0 })
}
