import Foundation
import FuzzTargets
import XCTest

/// The fuzz targets as `make test` checks them without libFuzzer: every
/// seed is accepted by its reader (so the fuzzer starts from valid input),
/// and every input kept under fuzz/corpus/ runs through its target.
final class FuzzCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fuzz/corpus").path

    func testEverySeedIsAcceptedByItsReader() {
        for target in FuzzTarget.allCases {
            let seeds = FuzzSeeds.seeds(of: target)
            XCTAssertFalse(seeds.isEmpty, target.rawValue)
            for (index, seed) in seeds.enumerated() {
                XCTAssertTrue(target.run(seed), "\(target.rawValue) seed \(index + 1) is refused by its own reader")
            }
        }
    }

    func testTheKeptCorpusRunsThroughEveryTarget() throws {
        for target in FuzzTarget.allCases {
            let folder = Self.corpus + "/" + target.rawValue
            let files = try FileManager.default.contentsOfDirectory(atPath: folder)
            XCTAssertFalse(files.isEmpty, "no corpus for \(target.rawValue) in \(folder)")
            var accepted = 0
            for file in files {
                let bytes = try XCTUnwrap(FileManager.default.contents(atPath: folder + "/" + file))
                if target.run(Array(bytes)) { accepted += 1 }
            }
            XCTAssertGreaterThan(accepted, 0, "no input of \(target.rawValue)'s corpus is accepted")
        }
    }
}
