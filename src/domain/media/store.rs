//! Where media bytes live: a local folder (the default) or an S3-compatible bucket, behind one
//! [`MediaStore`] that also makes each object's public URL.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};

use super::ImageKind;
use crate::domain::error::{Error, Result};

/// The media settings (from `SHOPVO_MEDIA_*`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest accepted image, in bytes (decoded).
    pub max_bytes: usize,
    /// Base of image URLs, without a trailing `/`: an object's URL is `<public_url>/<key>`.
    pub public_url: String,
    pub backend: Backend,
}

#[derive(Debug, Clone)]
pub enum Backend {
    /// Files under this folder, served by this server at `/media/<key>`.
    Local { dir: PathBuf },
    /// Objects in a bucket, served by the bucket (or a CDN in front of it) at `public_url`.
    S3(S3Settings),
}

#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// For S3-compatible services (MinIO, R2, …); addressed path-style. AWS when unset.
    pub endpoint: Option<String>,
    pub region: String,
    /// Unset: the usual AWS sources (`AWS_ACCESS_KEY_ID`, …, instance credentials).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// Where a bucket's objects are read when no public URL is configured.
    pub fn default_public_url(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{}/{}", endpoint.trim_end_matches('/'), self.bucket),
            None => format!("https://{}.s3.{}.amazonaws.com", self.bucket, self.region),
        }
    }
}

/// Caching for stored objects: a key is never reused for other bytes.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

pub struct MediaStore {
    max_bytes: usize,
    public_url: String,
    backend: Store,
}

enum Store {
    Local(PathBuf),
    Remote(Arc<dyn ObjectStore>),
}

impl MediaStore {
    /// Builds the store; nothing is contacted or created until the first upload.
    pub fn new(settings: &Settings) -> Result<MediaStore> {
        let backend = match &settings.backend {
            Backend::Local { dir } => Store::Local(dir.clone()),
            Backend::S3(s3) => {
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                let store = builder
                    .build()
                    .map_err(|e| Error::Internal(format!("S3 media store: {e}")))?;
                Store::Remote(Arc::new(store))
            }
        };
        Ok(MediaStore {
            max_bytes: settings.max_bytes,
            public_url: settings.public_url.trim_end_matches('/').to_string(),
            backend,
        })
    }

    /// Largest accepted image, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The public URL of the object stored under `key`.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_url)
    }

    pub(super) async fn put(&self, key: &str, bytes: Bytes, kind: ImageKind) -> Result<()> {
        match &self.backend {
            Store::Local(dir) => write_file(&dir.join(key), &bytes)
                .await
                .map_err(|e| Error::Internal(format!("writing media {key}: {e}"))),
            Store::Remote(store) => {
                let mut attributes = Attributes::new();
                attributes.insert(Attribute::ContentType, kind.content_type().into());
                attributes.insert(Attribute::CacheControl, CACHE_CONTROL.into());
                let options = PutOptions {
                    attributes,
                    ..PutOptions::default()
                };
                store
                    .put_opts(&key.into(), PutPayload::from(bytes), options)
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::Internal(format!("storing media {key}: {e}")))
            }
        }
    }

    /// Deletes a stored object; one already gone is not an error.
    pub(super) async fn delete(&self, key: &str) -> Result<()> {
        let result = match &self.backend {
            Store::Local(dir) => match tokio::fs::remove_file(dir.join(key)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            },
            Store::Remote(store) => match store.delete(&key.into()).await {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
        };
        result.map_err(|e| Error::Internal(format!("deleting media {key}: {e}")))
    }

    /// Deletes an object after its row is gone (or was never committed): a failure only leaves an
    /// unreferenced file, so it is logged rather than reported.
    pub(super) async fn discard(&self, key: &str) {
        if let Err(e) = self.delete(key).await {
            tracing::warn!(error = %e, "an unreferenced media object was left behind");
        }
    }

    /// A locally stored object's bytes and format, for serving `/media/<key>`; `None` for anything this
    /// store did not write: a malformed key (`..`, an absolute path, other characters), a missing file, or
    /// any key at all when objects live in a bucket.
    pub async fn read_local(&self, key: &str) -> Option<(Vec<u8>, ImageKind)> {
        let Store::Local(dir) = &self.backend else {
            return None;
        };
        let kind = parse_key(key)?;
        let bytes = tokio::fs::read(dir.join(key)).await.ok()?;
        Some((bytes, kind))
    }
}

/// The format of a key this store makes (`<site>/<product>/<image>.<ext>`: three segments of id
/// characters, the last with a known image extension). Anything else is refused, so a request path can
/// never name a file outside the folder or one this store did not write.
fn parse_key(key: &str) -> Option<ImageKind> {
    let segments: Vec<&str> = key.split('/').collect();
    let [_, _, file] = segments.as_slice() else {
        return None;
    };
    let id_like = |s: &str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    let (stem, extension) = file.split_once('.')?;
    if !segments[..2].iter().all(|s| id_like(s)) || !id_like(stem) {
        return None;
    }
    ImageKind::from_extension(extension)
}

/// The object key of a new image. The image id is random (not time-ordered), so keys cannot be guessed
/// from one another.
pub(super) fn key_for(site_id: &str, product_id: &str, image_id: &str, kind: ImageKind) -> String {
    format!("{site_id}/{product_id}/{image_id}.{}", kind.extension())
}

/// Writes a file whole: to a temporary name first, then renamed, so a reader never sees half of it.
async fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_this_store_makes_are_read() {
        assert_eq!(
            parse_key("site_01J/prd_01J/img_01J.png"),
            Some(ImageKind::Png)
        );
        for bad in [
            "",
            "img.png",
            "../prd/img.png",
            "site/../img.png",
            "site/prd/../img.png",
            "/etc/passwd/x.png",
            "site//img.png",
            "site/prd/img.png/",
            "site/prd/.png",
            "site/prd/img.svg",
            "site/prd/img.png.partial",
            "site/prd/a.b.png",
            "site\\prd/x/img.png",
            "site/prd%2F/img.png",
            "a/b/c/d.png",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }
}
