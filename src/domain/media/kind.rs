//! The image formats the media store accepts, told apart by their first bytes.

/// An accepted image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageKind {
    /// The format of `bytes` by its signature; `None` for anything else (a client's file name and
    /// content type are not trusted: a text file renamed `.png` is still text).
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(ImageKind::Jpeg),
            // The signature, then the first chunk's length and type, which must be IHDR.
            [
                0x89,
                b'P',
                b'N',
                b'G',
                0x0D,
                0x0A,
                0x1A,
                0x0A,
                _,
                _,
                _,
                _,
                b'I',
                b'H',
                b'D',
                b'R',
                ..,
            ] => Some(ImageKind::Png),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(ImageKind::Webp),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
            ImageKind::Gif => "image/gif",
        }
    }

    /// The extension of stored objects of this format (their keys end with it).
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
            ImageKind::Gif => "gif",
        }
    }

    /// The format of a stored object, from its key's extension.
    pub fn from_extension(extension: &str) -> Option<ImageKind> {
        [
            ImageKind::Jpeg,
            ImageKind::Png,
            ImageKind::Webp,
            ImageKind::Gif,
        ]
        .into_iter()
        .find(|k| k.extension() == extension)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageKind;

    #[test]
    fn formats_are_known_by_their_first_bytes() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a\x01\0"), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        for other in [
            &b""[..],
            b"\x89PNG",
            b"\x89PNG\r\n\x1a\n\0\0\0\r",
            b"hello.png",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"<svg>",
        ] {
            assert_eq!(ImageKind::sniff(other), None);
        }
        assert_eq!(ImageKind::from_extension("webp"), Some(ImageKind::Webp));
        assert_eq!(ImageKind::from_extension("svg"), None);
    }
}
