//! QR codes drawn by the service itself (never by a web service, which would see the secret),
//! as a PNG small enough for an inline e-mail image.

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module; with the 4-module quiet zone (ISO/IEC 18004 §6.3.8) a code for an
/// otpauth URI comes out at about 300 px, which phones scan easily from a screen.
const SCALE: usize = 6;
const QUIET_ZONE: usize = 4;

pub fn png(text: &str) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (index % modules + QUIET_ZONE, index / modules + QUIET_ZONE);
        for y in my * SCALE..(my + 1) * SCALE {
            pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}
