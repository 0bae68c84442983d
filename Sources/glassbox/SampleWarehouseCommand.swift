import ArgumentParser
import Connectors
import Foundation

struct SampleWarehouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-warehouse",
        abstract: "Create a realistic sample data warehouse in an SQLite file or a PostgreSQL database.",
        discussion: """
            Customers, contacts and their personal details, products, orders and order lines, plans, subscriptions and invoices, product sessions and events, churn labels and two views — with primary and foreign keys, comments, NULLs and skew. The same --seed gives the same rows.

            PostgreSQL gets the schemas crm, sales, billing, product and analytics. SQLite has one schema: the same tables without the prefix, their comments kept as -- comments in CREATE TABLE.

            --tables N adds filler tables analytics.daily_metrics_1 … until N tables exist. The password comes from the URL or $PGPASSWORD. An existing non-empty SQLite file, or existing warehouse schemas, are left alone unless --replace is given.
              glassbox sample-warehouse --sqlite warehouse.db
              glassbox sample-warehouse --postgres postgresql://glassbox@127.0.0.1:5432/warehouse --tables 200
            """
    )

    @Option(help: ArgumentHelp("Tables in all, filler tables included (at least \(SampleWarehouse.coreTableCount)).", valueName: "n"))
    var tables: Int?
    @Option(help: ArgumentHelp("Seed of the generated data.", valueName: "n")) var seed: UInt64 = 42
    @Option(name: .customLong("rows-scale"), help: ArgumentHelp("Multiplies the number of rows (1: a few thousand per large table).", valueName: "factor"))
    var rowsScale: Double = 1
    @Option(help: ArgumentHelp("The SQLite file to create.", valueName: "file")) var sqlite: String?
    @Option(help: ArgumentHelp("The PostgreSQL database, e.g. postgresql://user@127.0.0.1:5432/db.", valueName: "url")) var postgres: String?
    @Flag(help: "Start the SQLite file afresh, or drop the warehouse's PostgreSQL schemas first.") var replace = false

    func validate() throws {
        if (sqlite == nil) == (postgres == nil) { throw ValidationError("give one of --sqlite FILE and --postgres URL.") }
        if let tables, tables < SampleWarehouse.coreTableCount {
            throw ValidationError("--tables must be at least \(SampleWarehouse.coreTableCount), the core tables of the warehouse.")
        }
        if !(rowsScale > 0 && rowsScale <= 1_000) { throw ValidationError("--rows-scale must be above 0 and at most 1000.") }
    }

    func run() async throws {
        let start = ContinuousClock.now
        let (definition, target) = try connection()
        do {
            let writer = try await SQLDatabase(definition).writer(role: nil)
            let summary: SampleWarehouse.Summary
            do {
                summary = try await SampleWarehouse.create(
                    into: writer, options: .init(tables: tables, seed: seed, rowsScale: rowsScale, replace: replace)
                ) { progress in
                    let line = "\(progress.stepsDone)/\(progress.stepsTotal) \(progress.step)"
                    if Terminal.stderrIsTTY { Terminal.progress(line) } else { Terminal.note(line) }
                }
            } catch {
                await writer.close()
                throw error
            }
            await writer.close()
            Terminal.endProgress()
            report(summary, target: target, seconds: Format.seconds(ContinuousClock.now - start))
        } catch let error as ConnectorError {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        } catch let error as SampleWarehouseError {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
    }

    /// The connection to write to, and how to name it in the summary (without any password).
    private func connection() throws -> (ConnectionDefinition, String) {
        do {
            if let sqlite {
                let path = URL(fileURLWithPath: sqlite).standardized.path
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                if size > 0 {
                    guard replace else {
                        throw CommandFailure(message: "\(path) exists and is not empty; choose a new file or pass --replace to start it afresh",
                                             code: ExitStatus.invalidInput)
                    }
                    for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
                }
                return (try ConnectionDefinition(name: "sample", url: ConnectionDefinition.sqliteURL(path: path)), path)
            }
            let (url, fromURL) = ConnectionDefinition.separatingPassword(from: postgres ?? "")
            let password = fromURL ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
            return (try ConnectionDefinition(name: "sample", url: url, password: password), url)
        } catch let error as ConnectorError {
            throw CommandFailure(message: error.description, code: ExitStatus.invalidInput)
        }
    }

    private func report(_ summary: SampleWarehouse.Summary, target: String, seconds: Double) {
        let postgres = summary.engine == .postgresql
        Terminal.line("sample warehouse in \(target) (\(summary.engine.rawValue), seed \(summary.seed))")
        let core = summary.tables.prefix(summary.tables.count - summary.fillerTables)
        let names = core.map { postgres ? "\($0.schema).\($0.name)" : $0.name }
        let width = (names.map(\.count).max() ?? 0) + 2
        for (name, table) in zip(names, core) {
            let count = Format.count(table.rows)
            Terminal.line("  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                          + String(repeating: " ", count: max(0, 8 - count.count)) + count)
        }
        if summary.fillerTables > 0 {
            let rows = summary.tables.suffix(summary.fillerTables).reduce(0) { $0 + $1.rows }
            Terminal.line("  + \(Format.count(summary.fillerTables)) filler tables \(postgres ? "analytics." : "")daily_metrics_1…\(summary.fillerTables): \(Format.count(rows)) rows")
        }
        Terminal.line("  views: " + summary.views.joined(separator: ", "))
        Terminal.line(String(format: "%@ tables, %@ rows in %.1f s", Format.count(summary.tables.count), Format.count(summary.totalRows), seconds))
    }
}
