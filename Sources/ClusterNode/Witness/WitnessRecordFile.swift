import Foundation
import Platform
import Replication

/// Where `lts witness` keeps `WitnessBook.Record`: one small JSON file in
/// its data dir, replaced atomically and synced (`DurableFile.write`).
///
/// Invariant: `read` returns exactly what the last successful `write`
/// wrote, or a new record when the file was never written; a file that does
/// not parse is refused, never taken for a new witness (which would grant
/// a term again).
enum WitnessRecordFile {
    static func path(in dataDir: String) -> String { dataDir + "/witness-state.json" }

    static func read(dataDir: String) throws -> WitnessBook.Record {
        let file = path(in: dataDir)
        guard let data = FileManager.default.contents(atPath: file) else {
            guard !FileManager.default.fileExists(atPath: file) else { throw Failure("cannot read \(file)") }
            return WitnessBook.Record()
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let term = (object["highestTerm"] as? NSNumber)?.uint64Value, let hold = (object["holdMs"] as? NSNumber)?.uint64Value,
              hold <= WitnessLease.holdMsMax else {
            throw Failure("\(file) is damaged; restore it from a backup, or (only if no node of the pair is primary) remove it")
        }
        let holder = (object["holder"] as? NSNumber)?.intValue
        guard holder == nil || holder == Int(term % 2) else { throw Failure("\(file) names a holder of another node's term") }
        return WitnessBook.Record(highestTerm: term, holder: holder, holdMs: hold)
    }

    static func write(_ record: WitnessBook.Record, dataDir: String) throws {
        let holder = record.holder.map(String.init) ?? "null"
        let text = "{\"highestTerm\":\(record.highestTerm),\"holder\":\(holder),\"holdMs\":\(record.holdMs)}\n"
        try DurableFile.write(Data(text.utf8), to: path(in: dataDir))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
