//! An organization's own look inside Poortwachter's fixed frame: one accent colour (with white
//! text on it readable: WCAG 2.x contrast of at least 4.5:1, level AA), a logo (PNG, small,
//! served by Poortwachter under its content hash), and the name its mails are sent under
//! ("Acme B.V. via Poortwachter"). Nothing else can change: the service's name, the address
//! bar and the security texts stay, so a look-alike cannot copy more than a logo.
//!
//! The contrast formula is WCAG's own (relative luminance of sRGB); a crate for twenty lines
//! would bring a colour library. The logo check reads only the PNG signature and header:
//! the image is never decoded here, and it is served as `image/png` with `nosniff`, so a file
//! that is something else cannot run as script. SVG is not taken: a sanitiser or rasteriser
//! is a large attack surface for a logo.

use sha2::{Digest, Sha256};

/// WCAG 2.x level AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;
/// The largest logo file taken.
pub const MAX_LOGO_BYTES: usize = 100 * 1024;
/// The largest logo side in pixels (it is shown at most 48 px high, twice that for sharp
/// screens, and a wide logo may be wider).
pub const MAX_LOGO_SIDE: u32 = 1024;
/// The longest sender name.
pub const MAX_SENDER_NAME: usize = 60;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookError {
    #[error("the colour must be written #rrggbb, like #0b5cad")]
    ColourSyntax,
    #[error(
        "white text on {colour} has a contrast of {ratio:.2}:1; at least 4.5:1 is needed (WCAG AA)"
    )]
    TooLight { colour: String, ratio: f64 },
    #[error("the logo must be a PNG file")]
    NotPng,
    #[error("the logo may be at most {MAX_LOGO_BYTES} bytes")]
    LogoTooLarge,
    #[error("the logo may be at most {MAX_LOGO_SIDE} by {MAX_LOGO_SIDE} pixels")]
    LogoTooWide,
    #[error(
        "the sender name must be 1 to {MAX_SENDER_NAME} characters, without < > \" @ or a line break"
    )]
    SenderName,
}

/// An accent colour on which white text reads well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accent(String);

impl Accent {
    /// `#rrggbb` (any case), refused when white text on it is below AA.
    pub fn parse(text: &str) -> Result<Accent, LookError> {
        let text = text.trim().to_ascii_lowercase();
        let hex = text.strip_prefix('#').ok_or(LookError::ColourSyntax)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LookError::ColourSyntax);
        }
        let ratio = contrast_with_white(&text).ok_or(LookError::ColourSyntax)?;
        if ratio < MIN_CONTRAST {
            return Err(LookError::TooLight {
                colour: text,
                ratio,
            });
        }
        Ok(Accent(text))
    }

    /// `#rrggbb`, lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The WCAG contrast ratio of white text on `#rrggbb`.
pub fn contrast_with_white(colour: &str) -> Option<f64> {
    let hex = colour.strip_prefix('#')?;
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    let (r, g, b) = (channel(0)?, channel(2)?, channel(4)?);
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    Some((1.0 + 0.05) / (luminance + 0.05))
}

/// A logo that passed the checks, with the hash it is served under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    /// The first 16 hex digits of its SHA-256: a new logo gets a new address, so the old
    /// one may be cached forever.
    pub hash: String,
    pub width: u32,
    pub height: u32,
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

impl Logo {
    /// A PNG file (its signature and its first chunk, the header) of limited size.
    pub fn check(bytes: Vec<u8>) -> Result<Logo, LookError> {
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(LookError::LogoTooLarge);
        }
        // Signature, then the IHDR chunk: length 13, type, width, height.
        if bytes.len() < 33 || !bytes.starts_with(PNG_SIGNATURE) || &bytes[12..16] != b"IHDR" {
            return Err(LookError::NotPng);
        }
        let number = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let (width, height) = (number(16), number(20));
        if width == 0 || height == 0 {
            return Err(LookError::NotPng);
        }
        if width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
            return Err(LookError::LogoTooWide);
        }
        let digest = Sha256::digest(&bytes);
        let hash = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Logo {
            bytes,
            hash,
            width,
            height,
        })
    }
}

/// The name an organization's mails are sent under, before "via" and the service's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderName(String);

impl SenderName {
    pub fn parse(text: &str) -> Result<SenderName, LookError> {
        let text = text.trim();
        let count = text.chars().count();
        // A display name with these could read as another address in a mail program.
        let forbidden = |c: char| c.is_control() || matches!(c, '<' | '>' | '"' | '@');
        if count == 0 || count > MAX_SENDER_NAME || text.chars().any(forbidden) {
            return Err(LookError::SenderName);
        }
        Ok(SenderName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The mail's display name: "Acme B.V. via Poortwachter". The service's own name always
    /// stays, so a mail never pretends to come from the employer's own system.
    pub fn display(&self, service_name: &str) -> String {
        format!("{} via {service_name}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_follows_wcag() {
        // Black on white is 21:1; white on white 1:1; WCAG's own example grey #767676 is
        // the lightest grey that passes AA on white (4.54:1).
        assert!((contrast_with_white("#000000").unwrap() - 21.0).abs() < 1e-9);
        assert!((contrast_with_white("#ffffff").unwrap() - 1.0).abs() < 1e-9);
        let grey = contrast_with_white("#767676").unwrap();
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
        assert!(contrast_with_white("#777777").unwrap() < 4.5);
    }

    #[test]
    fn an_accent_must_carry_white_text() {
        assert_eq!(Accent::parse(" #0B5CAD ").unwrap().as_str(), "#0b5cad");
        assert!(Accent::parse("#767676").is_ok());
        match Accent::parse("#ffcc00") {
            Err(LookError::TooLight { colour, ratio }) => {
                assert_eq!(colour, "#ffcc00");
                assert!(ratio < 2.0, "{ratio}");
            }
            other => panic!("{other:?}"),
        }
        for bad in ["0b5cad", "#0b5ca", "#0b5cadd", "#gggggg", "blue", ""] {
            assert_eq!(Accent::parse(bad), Err(LookError::ColourSyntax), "{bad}");
        }
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = PNG_SIGNATURE.to_vec();
        bytes.extend(13u32.to_be_bytes());
        bytes.extend(b"IHDR");
        bytes.extend(width.to_be_bytes());
        bytes.extend(height.to_be_bytes());
        bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn a_logo_is_a_small_png() {
        let logo = Logo::check(png(240, 64)).unwrap();
        assert_eq!((logo.width, logo.height), (240, 64));
        assert_eq!(logo.hash.len(), 16);
        assert_ne!(Logo::check(png(241, 64)).unwrap().hash, logo.hash);
        assert_eq!(Logo::check(png(2000, 64)), Err(LookError::LogoTooWide));
        assert_eq!(Logo::check(png(0, 64)), Err(LookError::NotPng));
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert_eq!(Logo::check(svg.to_vec()), Err(LookError::NotPng));
        let mut html = png(10, 10);
        html[12..16].copy_from_slice(b"html");
        assert_eq!(Logo::check(html), Err(LookError::NotPng));
        let mut huge = png(10, 10);
        huge.resize(MAX_LOGO_BYTES + 1, 0);
        assert_eq!(Logo::check(huge), Err(LookError::LogoTooLarge));
    }

    #[test]
    fn a_sender_name_cannot_pose_as_an_address() {
        let name = SenderName::parse(" Acme Zorg B.V. ").unwrap();
        assert_eq!(
            name.display("Poortwachter"),
            "Acme Zorg B.V. via Poortwachter"
        );
        for bad in [
            "",
            "   ",
            "hr@acme.nl",
            "Acme <hr@acme.nl>",
            "Acme\r\nBcc: x",
            "\"Acme\"",
        ] {
            assert_eq!(
                SenderName::parse(bad),
                Err(LookError::SenderName),
                "{bad:?}"
            );
        }
        assert!(SenderName::parse(&"x".repeat(61)).is_err());
        assert!(SenderName::parse("Stichting Zorg & Welzijn Oost-Nederland").is_ok());
    }
}
