//! The index on disk: one generation in use (`<dir>/current` names it), and a new one built
//! aside by a rebuild, then swapped in. Each commit records how far in the change log the
//! index is, so a restart resumes exactly there.

pub mod document;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term};
use uuid::Uuid;

use self::document::IndexDoc;
use self::schema::{Fields, SCHEMA_VERSION};
use crate::analysis;
use crate::store::Position;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index files: {0}")]
    Io(#[from] std::io::Error),
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("the index writer is poisoned")]
    Poisoned,
}

type Result<T> = std::result::Result<T, IndexError>;

/// What each commit carries.
#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    version: u32,
    position: String,
}

pub struct Generation {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    writer: Mutex<IndexWriter>,
    dir: PathBuf,
}

impl Generation {
    fn create(dir: PathBuf, threads: usize, memory: usize) -> Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let (schema, fields) = schema::build();
        let index = Index::create(
            MmapDirectory::open(&dir)?,
            schema,
            tantivy::IndexSettings::default(),
        )?;
        Self::ready(index, fields, dir, threads, memory)
    }

    fn open(dir: PathBuf, memory: usize) -> Result<Option<Self>> {
        let index = Index::open(MmapDirectory::open(&dir)?)?;
        let Some(fields) = Fields::of(&index.schema()) else {
            return Ok(None);
        };
        let generation = Self::ready(index, fields, dir, 1, memory)?;
        Ok(generation.payload()?.is_some().then_some(generation))
    }

    fn ready(
        index: Index,
        fields: Fields,
        dir: PathBuf,
        threads: usize,
        memory: usize,
    ) -> Result<Self> {
        analysis::register(index.tokenizers());
        let writer = Self::writer(&index, threads, memory)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
            dir,
        })
    }

    /// The writer, waiting a little for a previous owner in this process to let go (an app
    /// restarted in place drops its old indexer a poll later).
    fn writer(index: &Index, threads: usize, memory: usize) -> Result<IndexWriter> {
        let mut attempts = 0;
        loop {
            match index.writer_with_num_threads(threads, memory * threads) {
                Err(tantivy::TantivyError::LockFailure(..)) if attempts < 40 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return Ok(other?),
            }
        }
    }

    fn payload(&self) -> Result<Option<CommitPayload>> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .and_then(|p| serde_json::from_str::<CommitPayload>(&p).ok())
            .filter(|p| p.version == SCHEMA_VERSION))
    }

    /// How far in the change log this index is.
    pub fn position(&self) -> Result<Position> {
        Ok(self
            .payload()?
            .and_then(|p| Position::decode(&p.position))
            .unwrap_or_default())
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Replaces every document of `products` with `docs`, and records `position`, in one
    /// commit: a reader sees all of it or none.
    pub fn apply(&self, products: &[Uuid], docs: &[IndexDoc], position: Position) -> Result<()> {
        let mut writer = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        for product in products {
            writer.delete_term(Term::from_field_text(
                self.fields.product_id,
                &product.to_string(),
            ));
        }
        for doc in docs {
            writer.add_document(doc.to_tantivy(&self.fields))?;
        }
        let payload = serde_json::to_string(&CommitPayload {
            version: SCHEMA_VERSION,
            position: position.encode(),
        })
        .unwrap_or_default();
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload);
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Adds documents without committing (a rebuild commits once, at the end).
    pub fn add(&self, docs: &[IndexDoc]) -> Result<()> {
        let writer = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        for doc in docs {
            writer.add_document(doc.to_tantivy(&self.fields))?;
        }
        Ok(())
    }
}

/// The generation in use, and how to build the next.
pub struct SearchIndex {
    root: PathBuf,
    memory: usize,
    current: RwLock<Option<Arc<Generation>>>,
}

impl SearchIndex {
    /// Nothing is opened yet: building a module for its documents (`pasar openapi`, the
    /// gateway) must not touch the index. [`SearchIndex::load`] opens it when search starts.
    pub fn new(root: PathBuf, memory_mb: usize) -> Self {
        Self {
            root,
            memory: memory_mb.max(16) * 1024 * 1024,
            current: RwLock::new(None),
        }
    }

    /// Opens the generation in use; leaves none when there is none or it cannot be used
    /// (missing, corrupt, another schema): the caller rebuilds.
    pub fn load(&self) -> Result<()> {
        let generation = match Self::open_current(&self.root, self.memory) {
            Ok(generation) => generation,
            Err(err) => {
                tracing::warn!(error = %err, dir = %self.root.display(), "search index unusable: it is rebuilt");
                None
            }
        };
        *self.current.write().map_err(|_| IndexError::Poisoned)? = generation.map(Arc::new);
        Ok(())
    }

    fn open_current(root: &Path, memory: usize) -> Result<Option<Generation>> {
        let Ok(name) = std::fs::read_to_string(root.join("current")) else {
            return Ok(None);
        };
        let dir = root.join(name.trim());
        if !dir.is_dir() {
            return Ok(None);
        }
        Generation::open(dir, memory)
    }

    pub fn current(&self) -> Option<Arc<Generation>> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    /// A new, empty generation beside the one in use.
    pub fn create_generation(&self) -> Result<Generation> {
        let name = format!("gen-{}", kernel::new_id().simple());
        Generation::create(self.root.join(name), 2, self.memory)
    }

    /// Commits `generation` at `position` and puts it in use; the previous one is deleted.
    pub fn install(&self, generation: Generation, position: Position) -> Result<()> {
        generation.apply(&[], &[], position)?;
        let name = generation
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pointer = self.root.join("current.next");
        std::fs::write(&pointer, &name)?;
        std::fs::rename(&pointer, self.root.join("current"))?;
        let previous = {
            let mut current = self.current.write().map_err(|_| IndexError::Poisoned)?;
            current.replace(Arc::new(generation))
        };
        if let Some(previous) = previous {
            let dir = previous.dir.clone();
            drop(previous);
            // Searches still holding the old generation keep its files open; on Unix removing
            // them is safe, and a failure only leaves a directory behind.
            if let Err(err) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(error = %err, dir = %dir.display(), "old search index not removed");
            }
        }
        self.remove_strays(&name);
        Ok(())
    }

    /// Generations left by an interrupted rebuild.
    fn remove_strays(&self, keep: &str) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("gen-") && name != keep {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
