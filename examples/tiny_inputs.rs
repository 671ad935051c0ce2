//! Writes small photo-like inputs for the memory benchmark:
//! `cargo run --release --example tiny_inputs -- OUT_DIR COUNT SIZE`.
//!
//! The images are 8-bit RGB PNGs with gradients, a disc and grain, so that
//! encoding them costs about what a real small photo costs.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "tiny-inputs".into()));
    let count: u32 = args.next().map_or(Ok(100), |a| a.parse())?;
    let size: u32 = args.next().map_or(Ok(64), |a| a.parse())?;
    std::fs::create_dir_all(&out)?;

    let mut state = 0x9e37_79b9u32;
    for index in 0..count {
        let centre = (size / 4 + index % (size / 2), size / 3 + (index * 7) % (size / 3));
        let image = image::RgbImage::from_fn(size, size, |x, y| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let grain = (state % 9) as i32 - 4;
            let (dx, dy) = (x as i32 - centre.0 as i32, y as i32 - centre.1 as i32);
            let inside = dx * dx + dy * dy < (size as i32 / 5).pow(2);
            let base = if inside {
                [200, 60 + (index * 13 % 120) as i32, 40]
            } else {
                [(x * 255 / size) as i32, (y * 255 / size) as i32, 128]
            };
            image::Rgb(base.map(|v| (v + grain).clamp(0, 255) as u8))
        });
        image.save(out.join(format!("tiny_{index:05}.png")))?;
    }
    Ok(())
}
