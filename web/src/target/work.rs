//! [`Work`]: what a target leaves for the connection's loop to poll, in a block of memory its
//! thread recycles.
//!
//! Nearly every request to a `RequestHandler` leaves work (the handler running the request),
//! and its box cost glibc ~126 instructions a request to allocate and free, even from its
//! per-thread cache. Works of up to 2 KiB live instead in blocks of 512 B, 1 KiB or 2 KiB
//! ([`CLASSES`]) that each thread keeps a few of: taking one and giving it back are a `Vec`
//! pop and push.
//!
//! This is the web crate's one `unsafe` module (the crate denies it elsewhere): a safe
//! recycling of typed boxes costs two copies of the future through a `dyn` call, more than the
//! allocator it saves (docs/performance.md). Each `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// The sizes of the recycled blocks: a work takes the smallest that holds it, so a waiting
/// long-poll handler holds at most twice its future's size. A `RequestHandler`'s run is ~650
/// bytes plus what the handler's own future keeps across its awaits. Larger works are boxed.
const CLASSES: [usize; 3] = [512, 1024, 2048];

/// The alignment of a block: works that need more get a box of their own.
const BLOCK_ALIGN: usize = 16;

/// Free blocks each thread keeps of each size: at most 16 × 3.5 KiB = 56 KiB a thread.
const KEPT: usize = 16;

/// The size class of a future of `layout`, if it lives in a block (the rest are boxed).
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() == 0 || layout.align() > BLOCK_ALIGN {
        return None;
    }
    CLASSES.iter().position(|&size| layout.size() <= size)
}

/// The layout of a block of `size` bytes; a size that makes no layout fails the build.
const fn block_layout_of(size: usize) -> Layout {
    match Layout::from_size_align(size, BLOCK_ALIGN) {
        Ok(layout) => layout,
        Err(_) => panic!("a block size must make a layout"),
    }
}

/// The layouts of the blocks of each class, fixed at compile time.
const LAYOUTS: [Layout; CLASSES.len()] = [
    block_layout_of(CLASSES[0]),
    block_layout_of(CLASSES[1]),
    block_layout_of(CLASSES[2]),
];

/// The layout of the blocks of class `class` (an index of [`CLASSES`]).
#[inline(always)]
fn block_layout(class: usize) -> Layout {
    LAYOUTS[class]
}

/// A thread's free blocks by class, freed with the thread.
struct FreeBlocks([Vec<NonNull<u8>>; CLASSES.len()]);

impl Drop for FreeBlocks {
    fn drop(&mut self) {
        for (class, blocks) in self.0.iter_mut().enumerate() {
            for block in blocks.drain(..) {
                // SAFETY: every block in list `class` was allocated with `block_layout(class)`
                // (by `new_block`) and is owned by the list alone: `give_back` put it there
                // after the work in it was dropped, and nothing else points to it.
                unsafe { dealloc(block.as_ptr(), block_layout(class)) };
            }
        }
    }
}

thread_local! {
    static FREE: RefCell<FreeBlocks> =
        const { RefCell::new(FreeBlocks([Vec::new(), Vec::new(), Vec::new()])) };
}

/// A free block of class `class` of this thread's, or a new one.
#[inline(always)]
fn take_block(class: usize) -> NonNull<u8> {
    let kept = FREE
        .try_with(|free| free.try_borrow_mut().ok()?.0[class].pop())
        .ok()
        .flatten();
    kept.unwrap_or_else(|| new_block(class))
}

/// A newly allocated block of class `class`.
fn new_block(class: usize) -> NonNull<u8> {
    let layout = block_layout(class);
    // SAFETY: a block's layout has a non-zero size.
    let block = unsafe { alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| handle_alloc_error(layout))
}

/// Keeps `block` (of class `class`, allocated with its layout, now unused) for this thread's
/// next work, or frees it.
#[inline(always)]
fn give_back(block: NonNull<u8>, class: usize) {
    let kept = FREE
        .try_with(|free| match free.try_borrow_mut() {
            Ok(mut free) if free.0[class].len() < KEPT => {
                free.0[class].push(block);
                true
            }
            _ => false,
        })
        .unwrap_or(false);
    if !kept {
        // SAFETY: the caller gives a block of class `class`, allocated with that class's
        // layout, that nothing else uses; it was not kept, so this is its only release.
        unsafe { dealloc(block.as_ptr(), block_layout(class)) };
    }
}

/// Work a target leaves for the connection's loop: polled there until done, dropped if the
/// client leaves first (the `RequestHandler` running a request, an async function's future).
///
/// ```
/// use cyclone_web::Work;
///
/// let work = Work::new(async { println!("answered") });
/// # drop(work);
/// ```
pub struct Work {
    /// The future, in a block (when its layout has a class, [`class_of`]) or in a box of its
    /// own.
    future: NonNull<dyn Future<Output = ()>>,
    /// The class of its block; `None` when it is boxed.
    class: Option<usize>,
    /// Owns a `dyn Future` that need not be `Send`.
    _owns: PhantomData<Pin<Box<dyn Future<Output = ()>>>>,
}

impl Work {
    /// `future` as work. Inside this crate, `work_in_place!` builds the future straight
    /// into its block instead of copying it there.
    #[inline(always)]
    pub fn new<F: Future<Output = ()> + 'static>(future: F) -> Work {
        Slot::new().fill(future)
    }
}

/// Where a future of type `F` is about to be written: taken before the future is built, so
/// that the compiler can build it there rather than build it and copy it (648 bytes for a
/// `RequestHandler`'s run: 88 instructions). A slot dropped unfilled (building the future
/// panicked) gives its block back.
pub(crate) struct Slot<F>(Option<Place<F>>);

/// A slot's memory.
enum Place<F> {
    /// A block of the class given: `F` fits.
    Block(NonNull<F>, usize),
    /// A box of its own.
    Boxed(Box<MaybeUninit<F>>),
}

impl<F: Future<Output = ()> + 'static> Slot<F> {
    /// A block if `F` fits one, else a box.
    #[inline(always)]
    pub(crate) fn new() -> Slot<F> {
        Slot(Some(match class_of(Layout::new::<F>()) {
            Some(class) => Place::Block(take_block(class).cast::<F>(), class),
            None => Place::Boxed(Box::new_uninit()),
        }))
    }

    /// Writes `future` into the slot.
    #[inline(always)]
    pub(crate) fn fill(mut self, future: F) -> Work {
        let (future, class): (NonNull<dyn Future<Output = ()>>, _) = match self.0.take() {
            Some(Place::Block(block, class)) => {
                // SAFETY: the block is of `F`'s class: at least `F`'s size and aligned to
                // `BLOCK_ALIGN`, which `F` needs no more than (`new` checked); it is unused
                // (new, or given back after its work was dropped), so writing overwrites
                // nothing live.
                unsafe { block.as_ptr().write(future) };
                (block, Some(class))
            }
            Some(Place::Boxed(uninit)) => (boxed(Box::write(uninit, future)), None),
            // Unreachable: only `fill` empties a slot, and it takes the slot by value.
            None => (boxed(Box::new(future)), None),
        };
        Work {
            future,
            class,
            _owns: PhantomData,
        }
    }
}

impl<F> Drop for Slot<F> {
    fn drop(&mut self) {
        if let Some(Place::Block(block, class)) = self.0.take() {
            give_back(block.cast::<u8>(), class);
        }
    }
}

/// `future`'s box, leaked into the pointer a [`Work`] owns.
fn boxed<F: Future<Output = ()> + 'static>(future: Box<F>) -> NonNull<dyn Future<Output = ()>> {
    let future: Box<dyn Future<Output = ()>> = future;
    NonNull::from(Box::leak(future))
}

/// `$future` as [`Work`], built straight into its block (see [`Slot`]). A macro, not a
/// function taking the future: the slot must exist before the future is built.
macro_rules! work_in_place {
    ($future:expr) => {
        $crate::target::work::Slot::new().fill($future)
    };
}
pub(crate) use work_in_place;

impl Future for Work {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `future` points to a live future that this `Work` alone owns (`&mut self`
        // gives exclusive access), and it never moves: it stays where `Slot::fill` wrote it
        // until `drop` drops it in place, so pinning it is sound whether or not `Work` itself
        // moves.
        unsafe { Pin::new_unchecked(&mut *self.future.as_ptr()) }.poll(cx)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        match self.class {
            Some(class) => {
                // SAFETY: the future is live and owned here (in a block of class `class`, as
                // `Slot::fill` noted), and dropped once: `Work` is dropped once and its
                // pointer is not used after this.
                unsafe { self.future.as_ptr().drop_in_place() };
                give_back(self.future.cast::<u8>(), class);
            }
            None => {
                // SAFETY: a future without a block was boxed by `Slot::fill` and leaked into
                // this pointer; this takes the box back, once.
                drop(unsafe { Box::from_raw(self.future.as_ptr()) });
            }
        }
    }
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Work")
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    use super::*;

    fn poll_once(work: &mut Work) -> Poll<()> {
        Pin::new(work).poll(&mut Context::from_waker(Waker::noop()))
    }

    fn free_blocks() -> usize {
        FREE.with(|free| free.borrow().0.iter().map(Vec::len).sum())
    }

    /// Counts its drops.
    struct Flag(Rc<Cell<u32>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// A flag and the count of its drops.
    fn flag() -> (Rc<Cell<u32>>, Flag) {
        let drops = Rc::new(Cell::new(0));
        let flag = Flag(Rc::clone(&drops));
        (drops, flag)
    }

    #[test]
    fn a_works_block_is_reused_and_its_future_dropped_once() {
        let (drops, flag) = flag();
        let mut work = Work::new(async move {
            let _flag = flag;
        });
        let address = work.future.cast::<u8>();
        assert_eq!(poll_once(&mut work), Poll::Ready(()));
        assert_eq!(
            drops.get(),
            1,
            "the future's state dropped when it finished"
        );
        drop(work);
        assert_eq!(drops.get(), 1);
        let next = Work::new(async {});
        assert_eq!(next.future.cast::<u8>(), address, "the block came back");
    }

    #[test]
    fn unfinished_work_drops_its_future_and_big_or_empty_futures_are_boxed() {
        let (drops, flag) = flag();
        let mut pending = Work::new(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        assert_eq!(poll_once(&mut pending), Poll::Pending);
        drop(pending);
        assert_eq!(
            drops.get(),
            1,
            "the client left: the future went with its work"
        );

        let big = [7u8; 4096];
        let mut boxed = Work::new(async move {
            assert_eq!(std::hint::black_box(&big)[2048], 7);
        });
        assert_eq!(poll_once(&mut boxed), Poll::Ready(()));
        drop(boxed);
        let mut empty = Work::new(std::future::ready(()));
        assert_eq!(poll_once(&mut empty), Poll::Ready(()));
    }

    #[test]
    fn a_slot_dropped_unfilled_gives_its_block_back() {
        drop(Work::new(async {}));
        let before = free_blocks();
        let built = std::panic::catch_unwind(|| {
            work_in_place!({
                if before < usize::MAX {
                    panic!("building the future failed");
                }
                async {}
            })
        });
        assert!(built.is_err());
        assert_eq!(free_blocks(), before, "the block taken for it came back");
    }

    #[test]
    fn each_thread_keeps_a_bounded_number_of_blocks_of_each_size() {
        let small = [1u8; 100];
        let middle = [2u8; 700];
        let works: Vec<Work> = (0..3 * KEPT)
            .flat_map(|_| {
                [
                    Work::new(async move {
                        std::hint::black_box(&small);
                    }),
                    Work::new(async move {
                        std::hint::black_box(&middle);
                    }),
                ]
            })
            .collect();
        drop(works);
        assert_eq!(free_blocks(), 2 * KEPT);
        let classes = FREE.with(|free| free.borrow().0.iter().map(Vec::len).collect::<Vec<_>>());
        assert_eq!(classes, [KEPT, KEPT, 0]);
    }

    #[test]
    fn a_work_takes_the_smallest_block_that_holds_it() {
        assert_eq!(class_of(Layout::new::<[u8; 1]>()), Some(0));
        assert_eq!(class_of(Layout::new::<[u8; 512]>()), Some(0));
        assert_eq!(class_of(Layout::new::<[u8; 513]>()), Some(1));
        assert_eq!(class_of(Layout::new::<[u8; 2048]>()), Some(2));
        assert_eq!(class_of(Layout::new::<[u8; 2049]>()), None);
        assert_eq!(class_of(Layout::new::<()>()), None);
        #[repr(align(32))]
        struct Wide(#[allow(dead_code)] [u8; 32]);
        assert_eq!(class_of(Layout::new::<Wide>()), None);
    }
}
