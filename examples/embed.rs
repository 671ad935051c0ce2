//! Embedding augmenta in a training loop: decode a folder once, then draw a
//! fresh augmented batch for every epoch, in memory, on the GPU if there is
//! one and on the CPU otherwise.
//!
//! `cargo run --release --example embed -- samples 3`
//!
//! The batch of epoch `e` is copy `e` of every image, so epoch 2 of a rerun
//! (or of a run on the other backend) gets exactly the same pixels.

use augmenta::io::decode::{decode_file, DecodeLimits};
use augmenta::io::discover::discover;
use augmenta::{Augmenter, Backend, Pipeline};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| "samples".into()));
    let epochs: u32 = args.next().map_or(Ok(2), |a| a.parse())?;

    // Decode every image once; the keys are paths relative to the root,
    // the same identities the `augment` command uses.
    let found = discover(&root)?;
    let mut images = Vec::new();
    for input in &found.inputs {
        match decode_file(&input.path, &DecodeLimits::default()) {
            Ok(decoded) => images.push((input.relative.clone(), decoded.rgba)),
            Err(error) => eprintln!("skipped {}: {error}", input.path.display()),
        }
    }

    let backend = match augmenta::gpu::GpuContext::new(false) {
        Ok(gpu) => Backend::Gpu(std::sync::Arc::new(gpu)),
        Err(_) => Backend::Cpu,
    };
    println!("{} images on {}", images.len(), backend.describe());
    let augmenter = Augmenter::new(Pipeline::default(), 7, backend);

    for epoch in 0..epochs {
        let batch: Vec<_> = images.iter().map(|(key, image)| (image, key.as_str())).collect();
        let augmented = augmenter.augment_batch(&batch, epoch)?;
        // A real loop would convert to tensors here; this one prints a checksum.
        let checksum: u64 = augmented
            .iter()
            .flat_map(|a| a.image.as_raw().iter())
            .map(|&v| u64::from(v))
            .sum();
        println!("epoch {epoch}: {} images, pixel sum {checksum}", augmented.len());
    }
    Ok(())
}
