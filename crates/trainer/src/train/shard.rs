//! Data-parallel sharding of an epoch: each global batch (the per-device batch times the
//! replicas) of the epoch's shuffled order is split into one part per replica, so every replica
//! takes the same number of steps (Burn's DDP all-reduces once per step on every device) and
//! together they see every image once per epoch. When the epoch's last global batch holds fewer
//! images than there are replicas, the replicas left without one repeat one of its images.

/// Replica `replica`'s batches of an epoch whose items come in `order`, with `batch_size`
/// images per device and `replicas` devices.
pub fn replica_batches(
    order: &[usize],
    batch_size: usize,
    replicas: usize,
    replica: usize,
) -> Vec<Vec<usize>> {
    order
        .chunks(batch_size * replicas)
        .map(|global| {
            let part = part(global.len(), replicas, replica);
            if part.is_empty() {
                vec![global[replica % global.len()]]
            } else {
                global[part].to_vec()
            }
        })
        .collect()
}

/// The images replica `replica` processes per epoch of `len` items: its share of each global
/// batch, one repeated image where the last global batch leaves it none.
pub fn replica_items(len: usize, batch_size: usize, replicas: usize, replica: usize) -> usize {
    let global = batch_size * replicas;
    let full = len / global;
    let last = len % global;
    let last_part = match last {
        0 => 0,
        last => part(last, replicas, replica).len().max(1),
    };
    full * batch_size + last_part
}

/// Which replica burn-train's split across `replicas` devices asks for: it cuts `len` items into
/// `replicas` slices of `len / replicas`, the last one taking the rest. `None` for another range.
pub fn split_index(len: usize, replicas: usize, start: usize, end: usize) -> Option<usize> {
    let step = len / replicas;
    if step == 0 || !start.is_multiple_of(step) {
        return None;
    }
    let index = start / step;
    let expected_end = if index + 1 == replicas {
        len
    } else {
        start + step
    };
    (index < replicas && end == expected_end).then_some(index)
}

/// Positions `replica` takes of a global batch of `len` items: near-equal contiguous parts.
fn part(len: usize, replicas: usize, replica: usize) -> std::ops::Range<usize> {
    len * replica / replicas..len * (replica + 1) / replicas
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every replica's batches for an epoch of `len` items in order 0..len.
    fn shards(len: usize, batch: usize, replicas: usize) -> Vec<Vec<Vec<usize>>> {
        let order: Vec<usize> = (0..len).collect();
        (0..replicas)
            .map(|r| replica_batches(&order, batch, replicas, r))
            .collect()
    }

    #[test]
    fn replicas_take_equal_steps_and_cover_the_epoch_once() {
        for (len, batch, replicas) in [
            (600, 32, 2),
            (97, 16, 2),
            (100, 16, 3),
            (10, 4, 2),
            (65, 32, 2),
        ] {
            let shards = shards(len, batch, replicas);
            let steps = len.div_ceil(batch * replicas);
            let mut seen: Vec<usize> = Vec::new();
            for (r, shard) in shards.iter().enumerate() {
                assert_eq!(shard.len(), steps, "{len}/{batch}/{replicas}: replica {r}");
                assert!(shard.iter().all(|b| !b.is_empty() && b.len() <= batch));
                let items: usize = shard.iter().map(Vec::len).sum();
                assert_eq!(items, replica_items(len, batch, replicas, r));
                seen.extend(shard.iter().flatten());
            }
            let last = len % (batch * replicas);
            let repeated = if last > 0 && last < replicas {
                replicas - last
            } else {
                0
            };
            assert_eq!(seen.len(), len + repeated, "{len}/{batch}/{replicas}");
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(
                seen,
                (0..len).collect::<Vec<_>>(),
                "{len}/{batch}/{replicas}"
            );
        }
    }

    #[test]
    fn each_step_takes_one_global_batch_of_the_order() {
        let shards = shards(10, 2, 2);
        assert_eq!(shards[0], [vec![0, 1], vec![4, 5], vec![8]]);
        assert_eq!(shards[1], [vec![2, 3], vec![6, 7], vec![9]]);
    }

    #[test]
    fn a_last_global_batch_smaller_than_the_replicas_is_repeated() {
        // 9 = 2 global batches of 4, then 1 image for 2 replicas.
        let shards = shards(9, 2, 2);
        assert_eq!(shards[0].last(), Some(&vec![8]));
        assert_eq!(shards[1].last(), Some(&vec![8]));
        assert_eq!(replica_items(9, 2, 2, 0) + replica_items(9, 2, 2, 1), 10);
    }

    #[test]
    fn burn_trains_split_is_recognised() {
        assert_eq!(split_index(600, 2, 0, 300), Some(0));
        assert_eq!(split_index(600, 2, 300, 600), Some(1));
        assert_eq!(split_index(10, 3, 6, 10), Some(2));
        assert_eq!(split_index(10, 3, 3, 6), Some(1));
        assert_eq!(split_index(10, 3, 3, 5), None);
        assert_eq!(split_index(10, 3, 2, 6), None);
        assert_eq!(split_index(1, 2, 0, 0), None);
    }
}
