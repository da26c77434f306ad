//! Spark's two kinds of names in a database: tables, which every session of a server sees
//! (`saveAsTable`, `CREATE TABLE … USING`) and which outlive the session that made them, and
//! temporary views, which belong to one session. A session's default database is a
//! [`SessionSchema`]: its own views over the server's [`SharedTables`]. A view shadows a
//! table of the same name, as in Spark; dropping a table drops it for every session.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::common::{Result, exec_err};
use datafusion::datasource::listing::ListingTable;

/// The tables of a server's default database, which every session shares.
#[derive(Debug, Default)]
pub struct SharedTables {
    tables: RwLock<BTreeMap<String, Arc<dyn TableProvider>>>,
}

impl SharedTables {
    /// Whether `name` is a table (not a session's view).
    pub fn contains(&self, name: &str) -> bool {
        self.read().contains_key(&name.to_lowercase())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>> {
        self.tables.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>> {
        self.tables.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// One session's default database: its temporary views, then the server's tables; and the
/// data of the tables and views the session cached (`CACHE TABLE`, `spark.catalog.cacheTable`),
/// which reads take in place of the table until it is uncached or refreshed.
#[derive(Debug)]
pub struct SessionSchema {
    views: RwLock<BTreeMap<String, Arc<dyn TableProvider>>>,
    shared: Arc<SharedTables>,
    cached: RwLock<BTreeMap<String, Arc<dyn TableProvider>>>,
}

impl SessionSchema {
    pub fn new(shared: Arc<SharedTables>) -> SessionSchema {
        SessionSchema {
            views: RwLock::default(),
            shared,
            cached: RwLock::default(),
        }
    }

    /// The table or view `name` as stored, not its cached copy.
    pub fn uncached_table(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        if let Some(view) = self.views().get(name) {
            return Some(view.clone());
        }
        self.shared.read().get(name).cloned()
    }

    /// Reads of `name` take `data` from now on.
    pub fn cache(&self, name: &str, data: Arc<dyn TableProvider>) {
        self.cached_mut().insert(name.to_string(), data);
    }

    /// Forgets `name`'s cached data; `false` when it had none.
    pub fn uncache(&self, name: &str) -> bool {
        self.cached_mut().remove(name).is_some()
    }

    pub fn is_cached(&self, name: &str) -> bool {
        self.cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(name)
    }

    pub fn cached_names(&self) -> Vec<String> {
        self.cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    fn cached_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>> {
        self.cached.write().unwrap_or_else(|p| p.into_inner())
    }

    fn views(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>> {
        self.views.read().unwrap_or_else(|p| p.into_inner())
    }

    fn views_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>> {
        self.views.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Tables stored as files (listing tables) are shared; views and in-memory tables are the
/// session's own.
fn is_stored(table: &Arc<dyn TableProvider>) -> bool {
    table.downcast_ref::<ListingTable>().is_some()
}

#[async_trait]
impl SchemaProvider for SessionSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.views().keys().cloned().collect();
        for name in self.shared.read().keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let cached = self
            .cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned();
        Ok(cached.or_else(|| self.uncached_table(name)))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        if is_stored(&table) {
            let mut shared = self.shared.write();
            if shared.contains_key(&name) {
                return exec_err!("The table {name} already exists");
            }
            shared.insert(name, table);
        } else {
            let mut views = self.views_mut();
            if views.contains_key(&name) {
                return exec_err!("The table {name} already exists");
            }
            views.insert(name, table);
        }
        Ok(None)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        self.uncache(name);
        if let Some(view) = self.views_mut().remove(name) {
            return Ok(Some(view));
        }
        Ok(self.shared.write().remove(name))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.views().contains_key(name) || self.shared.read().contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::datasource::file_format::parquet::ParquetFormat;
    use datafusion::datasource::listing::{ListingOptions, ListingTableConfig, ListingTableUrl};

    fn view() -> Arc<dyn TableProvider> {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        Arc::new(MemTable::try_new(schema, vec![vec![]]).expect("an empty table"))
    }

    fn stored() -> Arc<dyn TableProvider> {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int32, true)]));
        let url = ListingTableUrl::parse("file:///tmp/ember-shared-tables-test/").expect("a url");
        let config = ListingTableConfig::new(url)
            .with_listing_options(ListingOptions::new(Arc::new(ParquetFormat::default())))
            .with_schema(schema);
        Arc::new(ListingTable::try_new(config).expect("a listing table"))
    }

    #[tokio::test]
    async fn tables_are_shared_and_views_are_not() -> Result<()> {
        let shared = Arc::new(SharedTables::default());
        let (one, two) = (
            SessionSchema::new(shared.clone()),
            SessionSchema::new(shared.clone()),
        );
        one.register_table("t".into(), stored())?;
        one.register_table("v".into(), view())?;
        assert!(two.table_exist("t"));
        assert!(!two.table_exist("v"));
        assert_eq!(one.table_names(), ["t", "v"]);
        assert!(shared.contains("T"));

        // A view shadows the table of its name in its own session only.
        two.register_table("t".into(), view())?;
        assert!(two.table("t").await?.is_some_and(|t| !is_stored(&t)));
        assert!(one.table("t").await?.is_some_and(|t| is_stored(&t)));

        // Dropping the table in one session drops it in every session.
        one.deregister_table("t")?;
        assert!(!shared.contains("t"));
        two.deregister_table("t")?;
        assert!(!two.table_exist("t"));
        assert!(one.register_table("v".into(), view()).is_err());
        Ok(())
    }
}
