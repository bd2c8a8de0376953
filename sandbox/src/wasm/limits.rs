//! The store-wide [`ResourceLimiter`].
//!
//! `wasmtime::StoreLimits::memory_size` bounds each linear memory on its own, so a module with four
//! memories (or one memory plus big tables) could use four times `limits.memory`. This limiter keeps the
//! running total of every linear memory and every table (at [`TABLE_ELEMENT_BYTES`] per element) in the
//! store and refuses any growth that would take the total past the limit. A refused `memory.grow` or
//! `table.grow` returns -1 to the guest (wasm semantics), it does not trap; the refusal is remembered so
//! the outcome can list `memory` in `limits_hit`. Growth refused during instantiation (a declared minimum
//! above the limit) makes instantiation fail; [`StoreLimiter::refused`] then tells the backend why.

use wasmtime::ResourceLimiter;

/// Host bytes one table element costs (a pointer-sized funcref or externref slot).
pub(crate) const TABLE_ELEMENT_BYTES: u64 = 8;

/// What the limiter refused, for the outcome and the rejection reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Memories plus tables would have exceeded the byte limit.
    Memory { wanted: u64, limit: u64 },
    /// Table elements would have exceeded `wasm.max_table_elements`.
    TableElements { wanted: u64, limit: u64 },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Memory { wanted, limit } => write!(
                f,
                "memory: the module needs {wanted} bytes of linear memory and tables, limits.memory is {limit}"
            ),
            Refusal::TableElements { wanted, limit } => write!(
                f,
                "memory: the module needs {wanted} table elements, wasm.max_table_elements is {limit}"
            ),
        }
    }
}

/// Limits of one store. `None` in a field means that protection was removed (a weakening).
#[derive(Debug)]
pub(crate) struct StoreLimiter {
    /// Byte limit of all memories and tables together.
    pub(crate) memory: Option<u64>,
    /// Element limit of all tables together.
    pub(crate) table_elements: Option<u64>,
    pub(crate) instances: usize,
    pub(crate) memories: usize,
    pub(crate) tables: usize,
    /// Bytes of all memories and tables now.
    total: u64,
    /// Elements of all tables now.
    elements: u64,
    /// Largest `total` seen.
    pub(crate) peak: u64,
    /// The first growth refused, if any.
    pub(crate) refused: Option<Refusal>,
    /// The growth approved last, undone if the allocation itself then fails.
    pending: Option<(u64, u64)>,
}

impl StoreLimiter {
    pub(crate) fn new(
        memory: Option<u64>,
        table_elements: Option<u64>,
        instances: usize,
        memories: usize,
        tables: usize,
    ) -> Self {
        StoreLimiter {
            memory,
            table_elements,
            instances,
            memories,
            tables,
            total: 0,
            elements: 0,
            peak: 0,
            refused: None,
            pending: None,
        }
    }

    fn refuse(&mut self, r: Refusal) -> wasmtime::Result<bool> {
        self.refused.get_or_insert(r);
        Ok(false)
    }

    /// Approves growing by `bytes` (and `elements` table elements), updating the totals.
    fn grow(&mut self, bytes: u64, elements: u64) -> wasmtime::Result<bool> {
        let total = self.total.saturating_add(bytes);
        if let Some(limit) = self.memory {
            if total > limit {
                return self.refuse(Refusal::Memory {
                    wanted: total,
                    limit,
                });
            }
        }
        let all = self.elements.saturating_add(elements);
        if let Some(limit) = self.table_elements {
            if all > limit {
                return self.refuse(Refusal::TableElements { wanted: all, limit });
            }
        }
        self.total = total;
        self.elements = all;
        self.peak = self.peak.max(total);
        self.pending = Some((bytes, elements));
        Ok(true)
    }

    fn undo_pending(&mut self) {
        if let Some((bytes, elements)) = self.pending.take() {
            self.total -= bytes;
            self.elements -= elements;
        }
    }
}

fn delta(current: usize, desired: usize) -> u64 {
    (desired as u64).saturating_sub(current as u64)
}

impl ResourceLimiter for StoreLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(delta(current, desired), 0)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.undo_pending();
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let elements = delta(current, desired);
        self.grow(elements.saturating_mul(TABLE_ELEMENT_BYTES), elements)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.undo_pending();
        Ok(())
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_of_all_memories_is_limited() {
        let mut l = StoreLimiter::new(Some(100), None, 1, 4, 4);
        assert!(l.memory_growing(0, 60, None).unwrap());
        // A second memory alone is within 100 bytes, but not together with the first.
        assert!(!l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 40, None).unwrap());
        assert_eq!(l.peak, 100);
        assert!(matches!(
            l.refused,
            Some(Refusal::Memory {
                wanted: 120,
                limit: 100
            })
        ));
    }

    #[test]
    fn tables_count_as_memory_and_elements() {
        let mut l = StoreLimiter::new(Some(1000), Some(50), 1, 1, 4);
        assert!(l.table_growing(0, 50, None).unwrap());
        assert!(!l.table_growing(50, 51, None).unwrap());
        assert_eq!(l.peak, 400);
        let mut l = StoreLimiter::new(Some(1000), None, 1, 1, 4);
        assert!(!l.table_growing(0, 126, None).unwrap());
    }

    #[test]
    fn failed_growth_is_undone() {
        let mut l = StoreLimiter::new(Some(100), None, 1, 1, 1);
        assert!(l.memory_growing(0, 80, None).unwrap());
        l.memory_grow_failed(wasmtime::Error::msg("mmap failed"))
            .unwrap();
        assert!(l.memory_growing(0, 90, None).unwrap());
    }
}
