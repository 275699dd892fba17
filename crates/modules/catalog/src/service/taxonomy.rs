//! The category tree, brands and attributes (admin-managed).

use super::*;

impl Catalog {
    pub(crate) fn category(row: store::CategoryRow) -> Result<Category> {
        Ok(Category {
            path: path_ids(&row.path),
            name: from_json(&row.name)?,
            id: row.id,
            parent_id: row.parent_id,
            slug: row.slug,
            level: row.level,
            sort_order: row.sort_order,
        })
    }

    pub async fn create_category(&self, input: CategoryInput) -> Result<Category> {
        let mut errors = Vec::new();
        if !domain::is_slug(&input.slug) {
            errors.push(FieldError {
                field: "slug".into(),
                message: "must be 1 to 80 lowercase letters, digits and inner hyphens".into(),
            });
        }
        input.name.check("name", true, 100, &mut errors);
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let now = Timestamp::now();
        let id = kernel::new_id();
        let mut tx = self.ctx.db.begin().await?;
        let (path, level) = match input.parent_id {
            None => (format!("/{id}/"), 0),
            Some(parent) => {
                let parent = store::category_in(&mut tx, parent)
                    .await?
                    .ok_or_else(|| invalid_one("parentId", "no such category"))?;
                if parent.level >= 4 {
                    return Err(invalid_one("parentId", "categories nest at most 5 levels"));
                }
                (format!("{}{id}/", parent.path), parent.level + 1)
            }
        };
        let row = store::CategoryRow {
            id,
            parent_id: input.parent_id,
            slug: input.slug,
            path,
            level,
            sort_order: input.sort_order,
            name: to_json(&input.name),
        };
        if let Err(err) = store::insert_category(&mut tx, &row, now).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.commit(tx).await?;
        Self::category(row)
    }

    pub async fn update_category(&self, id: Uuid, update: CategoryUpdate) -> Result<Category> {
        let mut errors = Vec::new();
        if let Some(name) = &update.name {
            name.check("name", true, 100, &mut errors);
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let mut tx = self.ctx.db.begin().await?;
        let mut row = store::category_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)?;
        if let Some(name) = &update.name {
            row.name = to_json(name);
        }
        if let Some(order) = update.sort_order {
            row.sort_order = order;
        }
        let now = Timestamp::now();
        store::update_category(&mut tx, &row, now).await?;
        if let Some(parent_id) = update.parent_id.filter(|p| *p != row.parent_id) {
            let (parent_path, parent_level) = match parent_id {
                None => (String::from("/"), -1),
                Some(parent_id) => {
                    let parent = store::category_in(&mut tx, parent_id)
                        .await?
                        .ok_or_else(|| invalid_one("parentId", "no such category"))?;
                    if parent.path.starts_with(&row.path) {
                        return Err(invalid_one(
                            "parentId",
                            "cannot move a category under itself",
                        ));
                    }
                    (parent.path, parent.level)
                }
            };
            let level_delta = parent_level + 1 - row.level;
            let deepest = store::subtree_depth(&mut tx, &row.path).await?;
            if deepest + level_delta > 4 {
                return Err(invalid_one("parentId", "categories nest at most 5 levels"));
            }
            let new_path = format!("{parent_path}{id}/");
            store::move_category(
                &mut tx,
                id,
                parent_id,
                &row.path,
                &new_path,
                level_delta,
                now,
            )
            .await?;
            row = store::category_in(&mut tx, id)
                .await?
                .ok_or(CatalogError::CategoryNotFound)?;
        }
        self.commit(tx).await?;
        Self::category(row)
    }

    /// Deletes a category without children or products (deleted products still count: they
    /// keep their category for the record).
    pub async fn delete_category(&self, id: Uuid) -> Result<()> {
        let mut tx = self.ctx.db.begin().await?;
        store::category_in(&mut tx, id)
            .await?
            .ok_or(CatalogError::CategoryNotFound)?;
        match store::delete_category(&mut tx, id).await {
            Ok(true) => {}
            Ok(false) => return Err(CatalogError::CategoryInUse),
            Err(err)
                if err
                    .as_database_error()
                    .is_some_and(|e| e.is_foreign_key_violation()) =>
            {
                return Err(CatalogError::CategoryInUse)
            }
            Err(err) => return Err(err.into()),
        }
        self.commit(tx).await
    }

    pub async fn get_category(&self, id: Uuid) -> Result<Category> {
        Self::category(
            store::category(&self.ctx.db, id)
                .await?
                .ok_or(CatalogError::CategoryNotFound)?,
        )
    }

    pub async fn categories(&self, parent: Option<Uuid>, all: bool) -> Result<Vec<Category>> {
        if let Some(parent) = parent {
            store::category(&self.ctx.db, parent)
                .await?
                .ok_or(CatalogError::CategoryNotFound)?;
        }
        let rows = if all {
            store::all_categories(&self.ctx.db).await?
        } else {
            store::children(&self.ctx.db, parent).await?
        };
        rows.into_iter().map(Self::category).collect()
    }

    pub async fn create_brand(&self, input: BrandInput) -> Result<Brand> {
        let mut errors = Vec::new();
        if !domain::is_slug(&input.slug) {
            errors.push(FieldError {
                field: "slug".into(),
                message: "must be 1 to 80 lowercase letters, digits and inner hyphens".into(),
            });
        }
        if !(1..=100).contains(&input.name.trim().chars().count()) {
            errors.push(FieldError {
                field: "name".into(),
                message: "must be 1 to 100 characters".into(),
            });
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let row = store::BrandRow {
            id: kernel::new_id(),
            slug: input.slug,
            name: input.name.trim().to_owned(),
        };
        let mut tx = self.ctx.db.begin().await?;
        if let Err(err) = store::insert_brand(&mut tx, &row, Timestamp::now()).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("slug")
            } else {
                err.into()
            });
        }
        self.commit(tx).await?;
        Ok(Brand {
            id: row.id,
            slug: row.slug,
            name: row.name,
        })
    }

    pub async fn brands(&self, after: Option<&str>, limit: u32) -> Result<Vec<Brand>> {
        Ok(store::brands(&self.ctx.db, after, limit)
            .await?
            .into_iter()
            .map(|b| Brand {
                id: b.id,
                slug: b.slug,
                name: b.name,
            })
            .collect())
    }

    pub async fn create_attribute(&self, input: AttributeInput) -> Result<Attribute> {
        let mut errors = Vec::new();
        let code_ok = (1..=40).contains(&input.code.len())
            && input
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            errors.push(FieldError {
                field: "code".into(),
                message: "must be 1 to 40 lowercase letters, digits or '_'".into(),
            });
        }
        input.name.check("name", true, 100, &mut errors);
        match input.kind {
            AttributeKind::Select if input.options.is_empty() || input.options.len() > 100 => {
                errors.push(FieldError {
                    field: "options".into(),
                    message: "a SELECT attribute has 1 to 100 options".into(),
                })
            }
            AttributeKind::Select => {}
            _ if !input.options.is_empty() => errors.push(FieldError {
                field: "options".into(),
                message: "only SELECT attributes have options".into(),
            }),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let row = store::AttributeRow {
            id: kernel::new_id(),
            code: input.code,
            name: to_json(&input.name),
            kind: input.kind.as_str().to_owned(),
            options: to_json(&input.options),
        };
        let mut tx = self.ctx.db.begin().await?;
        if let Err(err) = store::insert_attribute(&mut tx, &row, Timestamp::now()).await {
            return Err(if is_unique_violation(&err) {
                CatalogError::Taken("code")
            } else {
                err.into()
            });
        }
        self.commit(tx).await?;
        Self::attribute(row)
    }

    pub(crate) fn attribute(row: store::AttributeRow) -> Result<Attribute> {
        Ok(Attribute {
            id: row.id,
            code: row.code,
            name: from_json(&row.name)?,
            kind: parse(&row.kind, AttributeKind::parse)?,
            options: from_json(&row.options)?,
        })
    }

    pub async fn attributes(&self) -> Result<Vec<Attribute>> {
        store::attributes(&self.ctx.db)
            .await?
            .into_iter()
            .map(Self::attribute)
            .collect()
    }
}
