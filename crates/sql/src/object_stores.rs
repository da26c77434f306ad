//! Object stores for table locations given as URLs, configured from the environment the way
//! each cloud's own tools are (AWS_*, GOOGLE_*, AZURE_* variables).

use std::sync::Arc;

use datafusion::prelude::SessionContext;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use url::Url;

use crate::SqlError;

/// Makes sure `location` can be read: registers the object store for its scheme and bucket if
/// it is a URL, checks that it exists if it is a local path.
pub(crate) fn ensure_readable(ctx: &SessionContext, location: &str) -> Result<(), SqlError> {
    let url = match Url::parse(location) {
        Ok(url) if url.scheme().len() > 1 => url,
        // Not a URL (or a Windows drive letter): a local path.
        _ => return check_local_path(location),
    };
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "file" => return check_local_path(url.path()),
        "s3" | "s3a" => Arc::new(
            AmazonS3Builder::from_env()
                .with_url(location)
                .build()
                .map_err(store_error(location))?,
        ),
        "gs" | "gcs" => Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_url(location)
                .build()
                .map_err(store_error(location))?,
        ),
        "az" | "abfs" | "abfss" | "azure" | "adl" => Arc::new(
            MicrosoftAzureBuilder::from_env()
                .with_url(location)
                .build()
                .map_err(store_error(location))?,
        ),
        other => {
            return Err(SqlError::Unsupported(format!(
                "{location}: Ember cannot read `{other}://` locations; use a local path, s3://, gs:// or az://"
            )));
        }
    };
    let base = Url::parse(&format!(
        "{}://{}",
        url.scheme(),
        url.host_str().unwrap_or_default()
    ))
    .map_err(|e| SqlError::Unsupported(format!("{location}: {e}")))?;
    ctx.register_object_store(&base, store);
    Ok(())
}

fn check_local_path(path: &str) -> Result<(), SqlError> {
    let path = std::path::Path::new(path);
    // A glob such as data/*.parquet is resolved by the listing table itself.
    if path.to_string_lossy().contains(['*', '?', '[']) || path.exists() {
        Ok(())
    } else {
        Err(SqlError::PathNotFound(path.to_path_buf()))
    }
}

fn store_error(location: &str) -> impl Fn(object_store::Error) -> SqlError + '_ {
    move |e| SqlError::Query(format!("cannot open {location}: {e}"))
}
