//! Pure rules of books: the page grid (which slots a placement covers, overlaps), what a
//! placement must carry, and which statuses allow what.

pub use books_contract::{BookStatus, PlacementKind};

/// Slots of a page: 2 columns × 4 rows, numbered row by row.
pub const SLOTS: u8 = 8;
pub const TEXT_MAX: usize = 300;
pub const MAX_PAGES: i32 = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("size must be 1, 2, 4 or 8 slots")]
    Size,
    #[error("slot must be 0 to 7")]
    Slot,
    #[error("a {size}-slot placement starts at {allowed}")]
    Misaligned { size: u8, allowed: &'static str },
}

/// The slots a placement covers, as a bit mask. A 2-slot block is a whole row, a 4-slot block
/// two rows (top or bottom half), an 8-slot block the page: blocks never straddle the grid.
pub fn cells(slot: u8, size: u8) -> Result<u8, LayoutError> {
    if slot >= SLOTS {
        return Err(LayoutError::Slot);
    }
    match size {
        1 => Ok(1 << slot),
        2 if slot.is_multiple_of(2) => Ok(0b11 << slot),
        2 => Err(LayoutError::Misaligned {
            size,
            allowed: "an even slot (a whole row)",
        }),
        4 if slot == 0 || slot == 4 => Ok(0x0F << slot),
        4 => Err(LayoutError::Misaligned {
            size,
            allowed: "slot 0 or 4 (a half page)",
        }),
        8 if slot == 0 => Ok(0xFF),
        8 => Err(LayoutError::Misaligned {
            size,
            allowed: "slot 0 (the whole page)",
        }),
        _ => Err(LayoutError::Size),
    }
}

/// Whether a block fits beside the page's others (given as (slot, size)).
pub fn overlaps(existing: &[(u8, u8)], mask: u8) -> bool {
    existing
        .iter()
        .filter_map(|(slot, size)| cells(*slot, *size).ok())
        .any(|taken| taken & mask != 0)
}

/// Whether the book's content may change in this status.
pub fn editable(status: BookStatus) -> bool {
    matches!(status, BookStatus::Draft | BookStatus::ReadyForPrint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_validate_as_the_grid_allows() {
        let table: &[(u8, u8, Result<u8, LayoutError>)] = &[
            (0, 1, Ok(0b0000_0001)),
            (7, 1, Ok(0b1000_0000)),
            (8, 1, Err(LayoutError::Slot)),
            (2, 2, Ok(0b0000_1100)),
            (6, 2, Ok(0b1100_0000)),
            (
                1,
                2,
                Err(LayoutError::Misaligned {
                    size: 2,
                    allowed: "an even slot (a whole row)",
                }),
            ),
            (0, 4, Ok(0b0000_1111)),
            (4, 4, Ok(0b1111_0000)),
            (
                2,
                4,
                Err(LayoutError::Misaligned {
                    size: 4,
                    allowed: "slot 0 or 4 (a half page)",
                }),
            ),
            (0, 8, Ok(0xFF)),
            (
                4,
                8,
                Err(LayoutError::Misaligned {
                    size: 8,
                    allowed: "slot 0 (the whole page)",
                }),
            ),
            (0, 3, Err(LayoutError::Size)),
            (0, 0, Err(LayoutError::Size)),
        ];
        for (slot, size, expected) in table {
            assert_eq!(&cells(*slot, *size), expected, "slot {slot} size {size}");
        }
    }

    #[test]
    fn overlaps_are_found_by_cells() {
        let page = [(0, 2), (4, 1)];
        assert!(
            overlaps(&page, cells(1, 1).unwrap()),
            "inside the first row"
        );
        assert!(
            overlaps(&page, cells(4, 4).unwrap()),
            "the bottom half holds slot 4"
        );
        assert!(!overlaps(&page, cells(5, 1).unwrap()));
        assert!(!overlaps(&page, cells(6, 2).unwrap()));
        assert!(overlaps(&page, cells(0, 8).unwrap()));
        assert!(!overlaps(&[], cells(0, 8).unwrap()));
    }

    #[test]
    fn only_drafts_and_ready_books_change() {
        assert!(editable(BookStatus::Draft));
        assert!(editable(BookStatus::ReadyForPrint));
        assert!(!editable(BookStatus::Generating));
        assert!(!editable(BookStatus::Published));
    }
}
