//! Media: uploaded images, kept in a [`MediaStore`] (a local folder, or an S3-compatible bucket) and listed
//! per product. A product's `images` URL list carries each uploaded image's URL too, so product reads need
//! nothing from here; the rows here say which of those URLs are ours and where their bytes are.
//!
//! Dialects call [`add_image`], [`list_images`] and [`delete_image`]; the bytes are checked by their magic
//! numbers ([`ImageKind::sniff`]), never by a client's file name or content type.

mod images;
mod kind;
mod store;

pub use images::{NewImage, ProductImage, add_image, delete_image, images_of, list_images};
pub use kind::ImageKind;
pub use store::{Backend, CACHE_CONTROL, MediaStore, S3Settings, Settings};
