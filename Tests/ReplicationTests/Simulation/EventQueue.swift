/// Timed events of a simulation, as a binary min-heap on (time, insertion
/// order).
///
/// Invariant: `pop` returns events in nondecreasing time, and events of the
/// same time in the order they were pushed, so a run is deterministic.
struct EventQueue<Event> {
    private struct Item {
        let timeMs: UInt64
        let sequence: UInt64
        let event: Event

        func precedes(_ other: Item) -> Bool {
            (timeMs, sequence) < (other.timeMs, other.sequence)
        }
    }

    private var heap: [Item] = []
    private var pushed: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTimeMs: UInt64? { heap.first?.timeMs }

    mutating func push(_ event: Event, atMs timeMs: UInt64) {
        pushed += 1
        heap.append(Item(timeMs: timeMs, sequence: pushed, event: event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (timeMs: UInt64, event: Event)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
                guard smallest != parent else { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (first.timeMs, first.event)
    }
}
