import Foundation

// The sample warehouse's tables and rows, generated from a seed.

/// SplitMix64: small, fast, and the same sequence on every platform.
struct SampleRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    mutating func pick<T>(_ weighted: [(T, Double)]) -> T {
        var point = unit() * weighted.reduce(0) { $0 + $1.1 }
        for (item, weight) in weighted {
            point -= weight
            if point < 0 { return item }
        }
        return weighted[weighted.count - 1].0
    }

    /// Pareto-distributed, at least 1: most draws small, a few very large.
    mutating func pareto(alpha: Double) -> Double { pow(1 - unit(), -1 / alpha) }

    /// Failures before the first success: 0, 1, 2, … with `p` the chance of success.
    mutating func geometric(_ p: Double, cap: Int) -> Int {
        var count = 0
        while count < cap && !chance(p) { count += 1 }
        return count
    }
}

/// Draws indexes in proportion to fixed weights.
struct WeightedIndex {
    private var cumulative: [Double] = []

    init(_ weights: [Double]) {
        var sum = 0.0
        cumulative = weights.map { weight in
            sum += weight
            return sum
        }
    }

    func draw(_ random: inout SampleRandom) -> Int {
        let point = random.unit() * (cumulative.last ?? 0)
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > point { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

enum SampleValue {
    case null
    case int(Int)
    case text(String)
    case bool(Bool)
    /// Days since 1970-01-01.
    case date(Int)
    /// Seconds since 1970-01-01 UTC.
    case time(Int)
    case money(cents: Int)
    case real(Double)
    case json(String)

    func literal(_ engine: SQLEngine) -> String {
        switch self {
        case .null: return "NULL"
        case .int(let value): return String(value)
        case .text(let text), .json(let text): return SQLText.quoteLiteral(text)
        case .bool(let value): return engine == .postgresql ? (value ? "true" : "false") : (value ? "1" : "0")
        case .date(let days): return "'" + SampleCalendar.date(days) + "'"
        case .time(let seconds):
            let text = SampleCalendar.date(seconds / 86_400) + " " + SampleCalendar.clock(seconds % 86_400)
            return "'" + text + (engine == .postgresql ? "+00'" : "'")
        case .money(let cents):
            let magnitude = abs(cents)
            let fraction = magnitude % 100
            return (cents < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + String(fraction)
        case .real(let value): return String((value * 10_000).rounded() / 10_000)
        }
    }
}

enum SampleCalendar {
    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    static func days(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func date(_ days: Int) -> String {
        let (year, month, day) = PostgresValues.civil(fromDaysSince1970: Int64(days))
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    static func clock(_ seconds: Int) -> String {
        func two(_ value: Int) -> String { (value < 10 ? "0" : "") + String(value) }
        return "\(two(seconds / 3_600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
    }

    static let start = days(2022, 1, 1) * 86_400
    static let end = days(2024, 6, 30) * 86_400
}

enum SampleType {
    case id, integer, text, code, bool, date, timestamp, money, real, json

    func sql(_ engine: SQLEngine) -> String {
        switch (self, engine) {
        case (.id, .postgresql): "bigint"
        case (.integer, .postgresql): "integer"
        case (.text, .postgresql): "text"
        case (.code, .postgresql): "varchar(32)"
        case (.bool, .postgresql): "boolean"
        case (.date, .postgresql): "date"
        case (.timestamp, .postgresql): "timestamptz"
        case (.money, .postgresql): "numeric(12,2)"
        case (.real, .postgresql): "double precision"
        case (.json, .postgresql): "jsonb"
        case (.id, .sqlite), (.integer, .sqlite): "INTEGER"
        case (.text, .sqlite), (.json, .sqlite): "TEXT"
        case (.code, .sqlite): "VARCHAR(32)"
        case (.bool, .sqlite): "BOOLEAN"
        case (.date, .sqlite): "DATE"
        case (.timestamp, .sqlite): "TIMESTAMP"
        case (.money, .sqlite): "NUMERIC(12,2)"
        case (.real, .sqlite): "REAL"
        }
    }
}

struct SampleColumn {
    var name: String
    var type: SampleType
    var nullable = false
    /// (schema, table, column) this column references.
    var references: (String, String, String)?
    var comment: String
}

struct SampleTable {
    var schema: String
    var name: String
    var comment: String
    var columns: [SampleColumn]
    var primaryKey: [String]
    var unique: [String] = []
    var indexes: [[String]] = []
    var rows: [[SampleValue]] = []

    func qualifiedName(_ engine: SQLEngine) -> String {
        engine == .postgresql ? "\(schema).\(name)" : name
    }

    /// CREATE TABLE (comments inline on SQLite, COMMENT ON on PostgreSQL) and its indexes.
    func ddl(_ engine: SQLEngine) -> [String] {
        let table = qualifiedName(engine)
        var lines = columns.map { column in
            "    \(column.name) \(column.type.sql(engine))" + (column.nullable ? "" : " NOT NULL")
        }
        var comments = columns.map { Optional($0.comment) }
        lines.append("    PRIMARY KEY (\(primaryKey.joined(separator: ", ")))")
        comments.append(nil)
        for column in unique {
            lines.append("    UNIQUE (\(column))")
            comments.append(nil)
        }
        for column in columns {
            guard let (schema, table, target) = column.references else { continue }
            let referenced = engine == .postgresql ? "\(schema).\(table)" : table
            lines.append("    FOREIGN KEY (\(column.name)) REFERENCES \(referenced) (\(target))")
            comments.append(nil)
        }
        var body = ""
        for (index, line) in lines.enumerated() {
            body += line + (index < lines.count - 1 ? "," : "")
            if engine == .sqlite, let comment = comments[index] { body += " -- " + comment }
            body += "\n"
        }
        var statements: [String] = []
        if engine == .sqlite {
            statements.append("CREATE TABLE \(table) ( -- \(comment)\n\(body))")
        } else {
            statements.append("CREATE TABLE \(table) (\n\(body))")
            statements.append("COMMENT ON TABLE \(table) IS \(SQLText.quoteLiteral(comment))")
            for column in columns {
                statements.append("COMMENT ON COLUMN \(table).\(column.name) IS \(SQLText.quoteLiteral(column.comment))")
            }
        }
        for index in indexes {
            statements.append("CREATE INDEX \(name)_\(index.joined(separator: "_"))_idx ON \(table) (\(index.joined(separator: ", ")))")
        }
        // One round trip instead of one per comment: PostgreSQL runs one statement per query.
        return engine == .postgresql ? ["DO $glassbox$ BEGIN\n" + statements.map { $0 + ";\n" }.joined() + "END $glassbox$"] : statements
    }

    /// Multi-row INSERTs of up to 500 rows each.
    func inserts(_ engine: SQLEngine) -> [String] {
        let head = "INSERT INTO \(qualifiedName(engine)) (\(columns.map(\.name).joined(separator: ", "))) VALUES\n"
        return stride(from: 0, to: rows.count, by: 500).map { start in
            head + rows[start..<min(start + 500, rows.count)].map { row in
                "(" + row.map { $0.literal(engine) }.joined(separator: ", ") + ")"
            }.joined(separator: ",\n")
        }
    }
}

struct SampleView {
    var schema: String
    var name: String
    var statements: [String]
}

extension SampleWarehouse {
    static func views(_ engine: SQLEngine) -> [SampleView] {
        let pg = engine == .postgresql
        func t(_ schema: String, _ table: String) -> String { pg ? "\(schema).\(table)" : table }
        func view(_ name: String, _ comment: String, _ select: String) -> SampleView {
            let qualified = t("analytics", name)
            let statements = pg
                ? ["CREATE VIEW \(qualified) AS\n\(select)", "COMMENT ON VIEW \(qualified) IS \(SQLText.quoteLiteral(comment))"]
                : ["CREATE VIEW \(qualified) AS -- \(comment)\n\(select)"]
            return SampleView(schema: "analytics", name: name, statements: statements)
        }
        let month = pg ? "date_trunc('month', s.started_at)::date" : "date(s.started_at, 'start of month')"
        return [
            view("customer_revenue", "Orders and revenue per customer, cancelled orders left out.", """
                SELECT c.customer_id, c.name, c.country, c.segment,
                       count(DISTINCT o.order_id) AS orders,
                       coalesce(sum(i.quantity * i.unit_price), 0) AS revenue
                FROM \(t("crm", "customers")) c
                LEFT JOIN \(t("sales", "orders")) o ON o.customer_id = c.customer_id AND o.status <> 'cancelled'
                LEFT JOIN \(t("sales", "order_items")) i ON i.order_id = o.order_id
                GROUP BY c.customer_id, c.name, c.country, c.segment
                """),
            view("monthly_active_customers", "Customers with at least one product session, per month.", """
                SELECT \(month) AS month, count(DISTINCT s.customer_id) AS active_customers, count(*) AS sessions
                FROM \(t("product", "sessions")) s
                GROUP BY 1
                """),
        ]
    }

    static func fillerTable(_ number: Int, random: inout SampleRandom, scale: Double) -> SampleTable {
        var table = SampleTable(
            schema: "analytics", name: "daily_metrics_\(number)",
            comment: "Daily KPIs of experiment cohort \(number) (filler table of the sample warehouse).",
            columns: [
                SampleColumn(name: "metric_date", type: .date, comment: "The day the figures cover (UTC)."),
                SampleColumn(name: "active_customers", type: .integer, comment: "Customers with a session that day."),
                SampleColumn(name: "new_orders", type: .integer, comment: "Orders placed that day."),
                SampleColumn(name: "revenue", type: .money, comment: "Revenue of those orders, in USD."),
                SampleColumn(name: "error_rate", type: .real, nullable: true, comment: "Share of events that were errors; NULL when not measured."),
            ],
            primaryKey: ["metric_date"])
        let days = max(5, Int(30 * scale))
        let base = SampleCalendar.days(2024, 6, 30) - days
        let level = random.pareto(alpha: 1.5) * 20
        for day in 0..<days {
            let active = Int(level * (0.7 + 0.6 * random.unit()))
            table.rows.append([
                .date(base + day), .int(active), .int(Int(Double(active) * 0.3 * random.unit())),
                .money(cents: Int(Double(active) * 4_000 * random.unit())),
                random.chance(0.1) ? .null : .real(random.unit() * 0.05),
            ])
        }
        return table
    }

    // MARK: The core tables

    private static let countries: [(String, Double)] = [
        ("US", 30), ("GB", 10), ("DE", 9), ("FR", 7), ("IN", 7), ("BR", 6), ("CA", 5), ("JP", 5), ("AU", 4),
        ("NL", 3), ("ES", 3), ("SE", 2), ("MX", 2), ("ZA", 2), ("SG", 2), ("PL", 1.5), ("IT", 1.5),
    ]
    private static let currencies = ["GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "IT": "EUR",
                                     "JP": "JPY", "IN": "INR", "BR": "BRL", "CA": "CAD", "AU": "AUD", "SE": "SEK"]
    private static let firstNames = ["Ada", "Amir", "Ana", "Bea", "Bruno", "Chen", "Chloe", "Dara", "Diego", "Elif", "Emma",
                                     "Farah", "Felix", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jonas", "Kai", "Lea", "Liam",
                                     "Maya", "Mateo", "Nia", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Sofia",
                                     "Tariq", "Uma", "Victor", "Wen", "Yara", "Yusuf", "Zoe"]
    private static let lastNames = ["Abe", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
                                    "Kowalski", "Lopez", "Meyer", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Silva",
                                    "Tanaka", "Urban", "Varga", "Weber", "Xu", "Yilmaz", "Zhang"]
    private static let companyWords = ["Blue", "River", "Northwind", "Summit", "Cedar", "Quantum", "Harbor", "Atlas", "Nimbus",
                                       "Orchid", "Granite", "Pioneer", "Lumen", "Vertex", "Maple", "Aurora", "Delta", "Falcon"]
    private static let companyKinds = ["Analytics", "Logistics", "Foods", "Health", "Labs", "Retail", "Energy", "Media",
                                       "Robotics", "Finance", "Travel", "Systems"]

    static func coreTables(random seeded: SampleRandom, scale: Double) -> [SampleTable] {
        var random = seeded
        let customerCount = max(20, Int(300 * scale))
        let end = SampleCalendar.end

        // crm.customers
        var customers = SampleTable(
            schema: "crm", name: "customers",
            comment: "People and companies that buy from us; one row per account.",
            columns: [
                SampleColumn(name: "customer_id", type: .id, comment: "Surrogate key of the account."),
                SampleColumn(name: "name", type: .text, comment: "Company name, or the person's name for consumers."),
                SampleColumn(name: "email", type: .text, nullable: true, comment: "Billing e-mail address; NULL when never given."),
                SampleColumn(name: "country", type: .code, comment: "ISO 3166-1 alpha-2 country code of the billing address."),
                SampleColumn(name: "segment", type: .code, comment: "enterprise, mid_market, smb or consumer."),
                SampleColumn(name: "created_at", type: .timestamp, comment: "When the account was opened (UTC)."),
                SampleColumn(name: "is_active", type: .bool, comment: "False once the account was closed."),
            ],
            primaryKey: ["customer_id"], indexes: [["country"]])
        var segments: [String] = [], countryOf: [String] = [], createdAt: [Int] = [], weights: [Double] = []
        for id in 1...customerCount {
            let segment = random.pick([("enterprise", 5.0), ("mid_market", 15), ("smb", 45), ("consumer", 35)])
            let country = random.pick(countries)
            let name = segment == "consumer"
                ? "\(random.pick(firstNames)) \(random.pick(lastNames))"
                : "\(random.pick(companyWords)) \(random.pick(companyWords)) \(random.pick(companyKinds))"
            let slug = name.lowercased().split(separator: " ").joined(separator: ".")
            let created = SampleCalendar.start + random.int(0...(SampleCalendar.days(2024, 3, 31) * 86_400 - SampleCalendar.start))
            let multipliers: [String: Double] = ["enterprise": 5, "mid_market": 2, "smb": 1, "consumer": 0.6]
            let multiplier = multipliers[segment] ?? 1
            segments.append(segment)
            countryOf.append(country)
            createdAt.append(created)
            weights.append(random.pareto(alpha: 1.16) * multiplier)
            customers.rows.append([
                .int(id), .text(name),
                random.chance(0.03) ? .null : .text("\(slug)\(id)@\(segment == "consumer" ? "mail.example" : "example.com")"),
                .text(country), .text(segment), .time(created), .bool(random.chance(0.88)),
            ])
        }
        let byWeight = WeightedIndex(weights)
        func fullName(_ random: inout SampleRandom) -> String { "\(random.pick(firstNames)) \(random.pick(lastNames))" }

        // crm.contacts
        var contacts = SampleTable(
            schema: "crm", name: "contacts",
            comment: "People we talk to at each customer.",
            columns: [
                SampleColumn(name: "contact_id", type: .id, comment: "Surrogate key."),
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "The account the person belongs to."),
                SampleColumn(name: "full_name", type: .text, comment: "Given name and family name."),
                SampleColumn(name: "email", type: .text, comment: "Work e-mail address."),
                SampleColumn(name: "job_title", type: .text, nullable: true, comment: "As the person gave it; NULL when unknown."),
                SampleColumn(name: "phone", type: .text, nullable: true, comment: "Work phone, E.164; often missing."),
                SampleColumn(name: "created_at", type: .timestamp, comment: "When the contact was added (UTC)."),
            ],
            primaryKey: ["contact_id"], indexes: [["customer_id"]])
        for customer in 0..<customerCount {
            let count = switch segments[customer] {
            case "enterprise": random.int(2...6)
            case "mid_market": random.int(1...4)
            case "smb": random.int(1...2)
            default: random.chance(0.6) ? 1 : 0
            }
            for _ in 0..<count {
                let name = fullName(&random)
                let id = contacts.rows.count + 1
                contacts.rows.append([
                    .int(id), .int(customer + 1), .text(name),
                    .text(name.lowercased().split(separator: " ").joined(separator: ".") + "\(id)@example.com"),
                    random.chance(0.2) ? .null : .text(random.pick(["CTO", "Data Engineer", "Head of Finance", "Analyst", "Procurement", "CEO", "Product Manager"])),
                    random.chance(0.4) ? .null : .text("+1555\(random.int(1_000_000...9_999_999))"),
                    .time(min(end, createdAt[customer] + random.int(0...90 * 86_400))),
                ])
            }
        }

        // crm.pii_customer_details
        var pii = SampleTable(
            schema: "crm", name: "pii_customer_details",
            comment: "Personal data of customers: restricted, readable by the privacy team only.",
            columns: [
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "The account these details belong to."),
                SampleColumn(name: "date_of_birth", type: .date, nullable: true, comment: "Consumers only; NULL for companies."),
                SampleColumn(name: "national_id", type: .text, nullable: true, comment: "Tax or national identity number (synthetic)."),
                SampleColumn(name: "street_address", type: .text, comment: "Billing street address."),
                SampleColumn(name: "phone", type: .text, nullable: true, comment: "Personal phone number, E.164."),
                SampleColumn(name: "card_last4", type: .code, nullable: true, comment: "Last four digits of the card on file."),
            ],
            primaryKey: ["customer_id"])
        for customer in 0..<customerCount {
            let consumer = segments[customer] == "consumer"
            pii.rows.append([
                .int(customer + 1),
                consumer ? .date(SampleCalendar.days(1950, 1, 1) + random.int(0...18_000)) : .null,
                random.chance(0.1) ? .null : .text("\(random.int(100...999))-\(random.int(10...99))-\(random.int(1000...9999))"),
                .text("\(random.int(1...2500)) \(random.pick(lastNames)) \(random.pick(["Street", "Avenue", "Road", "Lane", "Way"]))"),
                random.chance(0.3) ? .null : .text("+1555\(random.int(1_000_000...9_999_999))"),
                random.chance(0.25) ? .null : .text(String(random.int(1000...9999))),
            ])
        }

        // sales.products
        var products = SampleTable(
            schema: "sales", name: "products",
            comment: "What we sell: hardware, licences and services.",
            columns: [
                SampleColumn(name: "product_id", type: .id, comment: "Surrogate key."),
                SampleColumn(name: "sku", type: .code, comment: "Stock-keeping unit, unique."),
                SampleColumn(name: "name", type: .text, comment: "Name shown in the catalogue."),
                SampleColumn(name: "category", type: .code, comment: "hardware, software, services, training or support."),
                SampleColumn(name: "list_price", type: .money, comment: "Price before discounts, in USD."),
                SampleColumn(name: "is_discontinued", type: .bool, comment: "No longer sold; old orders may still refer to it."),
            ],
            primaryKey: ["product_id"], unique: ["sku"])
        let productCount = max(10, Int(50 * scale))
        var prices: [Int] = []
        for id in 1...productCount {
            let category = random.pick([("software", 35.0), ("hardware", 25), ("services", 20), ("training", 10), ("support", 10)])
            let cents = Int(exp(log(9.0) + random.unit() * (log(1_999.0) - log(9.0))) * 100)
            prices.append(cents)
            products.rows.append([
                .int(id), .text("SKU-\(10_000 + id)"),
                .text("\(random.pick(companyWords)) \(random.pick(["Sensor", "Suite", "Gateway", "Workshop", "Licence", "Dock", "Console", "Plan"]))"),
                .text(category), .money(cents: cents), .bool(random.chance(0.08)),
            ])
        }
        let popularity = WeightedIndex((1...productCount).map { 1 / pow(Double($0), 1.1) })

        // sales.orders and sales.order_items
        var orders = SampleTable(
            schema: "sales", name: "orders",
            comment: "Orders placed by customers, one row per order.",
            columns: [
                SampleColumn(name: "order_id", type: .id, comment: "Surrogate key; grows with ordered_at."),
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "Who ordered."),
                SampleColumn(name: "ordered_at", type: .timestamp, comment: "When the order was placed (UTC)."),
                SampleColumn(name: "status", type: .code, comment: "placed, shipped, delivered, cancelled or returned."),
                SampleColumn(name: "channel", type: .code, comment: "web, mobile, partner or sales_rep."),
                SampleColumn(name: "currency", type: .code, comment: "ISO 4217 code the customer paid in."),
                SampleColumn(name: "total_amount", type: .money, comment: "Sum of the order's items, in the order's currency."),
                SampleColumn(name: "discount_code", type: .code, nullable: true, comment: "Promotion used, if any."),
            ],
            primaryKey: ["order_id"], indexes: [["customer_id"], ["ordered_at"]])
        var items = SampleTable(
            schema: "sales", name: "order_items",
            comment: "Lines of each order.",
            columns: [
                SampleColumn(name: "order_id", type: .id, references: ("sales", "orders", "order_id"), comment: "The order this line belongs to."),
                SampleColumn(name: "line_number", type: .integer, comment: "1, 2, … within the order."),
                SampleColumn(name: "product_id", type: .id, references: ("sales", "products", "product_id"), comment: "What was ordered."),
                SampleColumn(name: "quantity", type: .integer, comment: "Units ordered, at least 1."),
                SampleColumn(name: "unit_price", type: .money, comment: "Price per unit after discount."),
            ],
            primaryKey: ["order_id", "line_number"], indexes: [["product_id"]])
        var placed: [(customer: Int, at: Int)] = []
        for _ in 0..<(customerCount * 4) {
            let customer = byWeight.draw(&random)
            placed.append((customer, createdAt[customer] + random.int(0...max(1, end - createdAt[customer]))))
        }
        placed.sort { $0.at < $1.at || ($0.at == $1.at && $0.customer < $1.customer) }
        for (index, order) in placed.enumerated() {
            let id = index + 1
            var total = 0
            let lines = 1 + random.geometric(0.45, cap: 7)
            for line in 1...lines {
                let product = popularity.draw(&random)
                let quantity = 1 + random.geometric(segments[order.customer] == "enterprise" ? 0.2 : 0.6, cap: 49)
                let price = prices[product] * (100 - random.int(0...15)) / 100
                total += price * quantity
                items.rows.append([.int(id), .int(line), .int(product + 1), .int(quantity), .money(cents: price)])
            }
            orders.rows.append([
                .int(id), .int(order.customer + 1), .time(order.at),
                .text(random.pick([("delivered", 70.0), ("shipped", 10), ("placed", 8), ("cancelled", 7), ("returned", 5)])),
                .text(random.pick([("web", 50.0), ("mobile", 25), ("partner", 10), ("sales_rep", 15)])),
                .text(currencies[countryOf[order.customer]] ?? "USD"), .money(cents: total),
                random.chance(0.12) ? .text(random.pick(["SPRING10", "WELCOME", "PARTNER20", "BLACKFRIDAY"])) : .null,
            ])
        }

        // billing.plans, billing.subscriptions, billing.invoices
        let planRows: [(String, String, Int, Int?)] = [
            ("free", "Free", 0, 1), ("starter", "Starter", 2_900, 3), ("pro", "Pro", 9_900, 10),
            ("business", "Business", 29_900, 50), ("enterprise", "Enterprise", 149_900, nil),
        ]
        var plans = SampleTable(
            schema: "billing", name: "plans",
            comment: "Subscription plans and their list prices.",
            columns: [
                SampleColumn(name: "plan_code", type: .code, comment: "Stable identifier of the plan."),
                SampleColumn(name: "name", type: .text, comment: "Name shown to customers."),
                SampleColumn(name: "monthly_price", type: .money, comment: "Price per month in USD, before tax."),
                SampleColumn(name: "included_seats", type: .integer, nullable: true, comment: "Seats included; NULL means unlimited."),
            ],
            primaryKey: ["plan_code"])
        for plan in planRows {
            plans.rows.append([.text(plan.0), .text(plan.1), .money(cents: plan.2), plan.3.map { .int($0) } ?? .null])
        }
        var subscriptions = SampleTable(
            schema: "billing", name: "subscriptions",
            comment: "Which plan each customer is on, and since when.",
            columns: [
                SampleColumn(name: "subscription_id", type: .id, comment: "Surrogate key."),
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "The subscribing account."),
                SampleColumn(name: "plan_code", type: .code, references: ("billing", "plans", "plan_code"), comment: "The plan subscribed to."),
                SampleColumn(name: "status", type: .code, comment: "active, past_due or cancelled."),
                SampleColumn(name: "seats", type: .integer, comment: "Seats paid for."),
                SampleColumn(name: "started_at", type: .timestamp, comment: "Start of the subscription (UTC)."),
                SampleColumn(name: "cancelled_at", type: .timestamp, nullable: true, comment: "When it ended; NULL while it runs."),
            ],
            primaryKey: ["subscription_id"], indexes: [["customer_id"]])
        var invoices = SampleTable(
            schema: "billing", name: "invoices",
            comment: "Monthly invoices of paid subscriptions.",
            columns: [
                SampleColumn(name: "invoice_id", type: .id, comment: "Surrogate key."),
                SampleColumn(name: "subscription_id", type: .id, references: ("billing", "subscriptions", "subscription_id"), comment: "The subscription billed."),
                SampleColumn(name: "issued_on", type: .date, comment: "Invoice date."),
                SampleColumn(name: "due_on", type: .date, comment: "Payment due date, 14 days after issue."),
                SampleColumn(name: "amount", type: .money, comment: "Amount due in USD."),
                SampleColumn(name: "status", type: .code, comment: "paid, open, overdue or void."),
                SampleColumn(name: "paid_at", type: .timestamp, nullable: true, comment: "When payment arrived; NULL if unpaid."),
            ],
            primaryKey: ["invoice_id"], indexes: [["subscription_id"]])
        var churned: [Int: Bool] = [:]
        for customer in 0..<customerCount where random.chance(0.9) {
            let plan = switch segments[customer] {
            case "consumer": random.pick([(0, 50.0), (1, 40), (2, 10)])
            case "smb": random.pick([(1, 45.0), (2, 45), (3, 10)])
            case "mid_market": random.pick([(2, 40.0), (3, 50), (4, 10)])
            default: random.pick([(3, 30.0), (4, 70)])
            }
            let started = min(end - 86_400, createdAt[customer] + random.int(0...30 * 86_400))
            let cancelledAt: Int? = random.chance(0.18) ? started + random.int(30...500) * 86_400 : nil
            let cancelled = cancelledAt.map { $0 < end } ?? false
            let seats = planRows[plan].3.map { max(1, $0 - random.int(0...$0 / 2)) } ?? random.int(60...400)
            let id = subscriptions.rows.count + 1
            churned[customer] = cancelled
            subscriptions.rows.append([
                .int(id), .int(customer + 1), .text(planRows[plan].0),
                .text(cancelled ? "cancelled" : (random.chance(0.04) ? "past_due" : "active")), .int(seats), .time(started),
                cancelled ? .time(cancelledAt!) : .null,
            ])
            guard planRows[plan].2 > 0 else { continue }
            let amount = planRows[plan].3 == nil ? planRows[plan].2 * seats / 50 : planRows[plan].2
            var issued = started / 86_400
            let last = (cancelled ? cancelledAt! : end) / 86_400
            while issued <= last {
                let paid = random.pick([("paid", 92.0), ("overdue", 3), ("void", 1), ("open", 4)])
                let status = last - issued < 14 && paid == "paid" && random.chance(0.5) ? "open" : paid
                invoices.rows.append([
                    .int(invoices.rows.count + 1), .int(id), .date(issued), .date(issued + 14), .money(cents: amount), .text(status),
                    status == "paid" ? .time(issued * 86_400 + random.int(0...20 * 86_400)) : .null,
                ])
                issued += 30
            }
        }

        // product.sessions and product.product_events
        var sessions = SampleTable(
            schema: "product", name: "sessions",
            comment: "Visits to the product by a customer's users.",
            columns: [
                SampleColumn(name: "session_id", type: .id, comment: "Surrogate key."),
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "Whose user it was."),
                SampleColumn(name: "started_at", type: .timestamp, comment: "First event of the session (UTC)."),
                SampleColumn(name: "duration_seconds", type: .integer, comment: "From the first to the last event."),
                SampleColumn(name: "device", type: .code, comment: "desktop, ios, android or web."),
                SampleColumn(name: "country", type: .code, nullable: true, comment: "Where the session came from; NULL when the IP could not be placed."),
            ],
            primaryKey: ["session_id"], indexes: [["customer_id"], ["started_at"]])
        var events = SampleTable(
            schema: "product", name: "product_events",
            comment: "What users did in the product; a few sessions hold most events.",
            columns: [
                SampleColumn(name: "event_id", type: .id, comment: "Surrogate key."),
                SampleColumn(name: "session_id", type: .id, references: ("product", "sessions", "session_id"), comment: "The session it happened in."),
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "Copied from the session for cheap filters."),
                SampleColumn(name: "occurred_at", type: .timestamp, comment: "When it happened (UTC)."),
                SampleColumn(name: "event_type", type: .code, comment: "page_view, feature_used, export, invite_sent, search or error."),
                SampleColumn(name: "properties", type: .json, nullable: true, comment: "Event details as JSON; NULL when there are none."),
            ],
            primaryKey: ["event_id"], indexes: [["customer_id", "occurred_at"], ["session_id"]])
        var visits: [(customer: Int, at: Int)] = []
        for _ in 0..<(customerCount * 3) {
            let customer = byWeight.draw(&random)
            visits.append((customer, createdAt[customer] + random.int(0...max(1, end - createdAt[customer]))))
        }
        visits.sort { $0.at < $1.at || ($0.at == $1.at && $0.customer < $1.customer) }
        for (index, visit) in visits.enumerated() {
            let id = index + 1
            let duration = min(4 * 3_600, Int(random.pareto(alpha: 1.4) * 45))
            sessions.rows.append([
                .int(id), .int(visit.customer + 1), .time(visit.at), .int(duration),
                .text(random.pick([("desktop", 45.0), ("web", 25), ("ios", 18), ("android", 12)])),
                random.chance(0.05) ? .null : .text(random.chance(0.9) ? countryOf[visit.customer] : random.pick(countries)),
            ])
            let count = min(200, Int(random.pareto(alpha: 1.3) * 1.5))
            for _ in 0..<count {
                let type = random.pick([("page_view", 50.0), ("feature_used", 22), ("search", 12), ("export", 6), ("invite_sent", 3), ("error", 7)])
                let properties: SampleValue = switch type {
                case "page_view": .json(#"{"page": "\#(random.pick(["/dashboard", "/reports", "/settings", "/billing", "/data"]))"}"#)
                case "feature_used": .json(#"{"feature": "\#(random.pick(["charts", "alerts", "sql_editor", "sharing"]))"}"#)
                case "export": .json(#"{"format": "\#(random.pick(["csv", "xlsx", "parquet"]))", "rows": \#(random.int(10...50_000))}"#)
                case "error": .json(#"{"code": \#(random.pick([400, 403, 500, 504]))}"#)
                default: random.chance(0.5) ? .null : .json("{}")
                }
                events.rows.append([
                    .int(events.rows.count + 1), .int(id), .int(visit.customer + 1),
                    .time(min(end, visit.at + random.int(0...max(1, duration)))), .text(type), properties,
                ])
            }
        }

        // analytics.churn_labels
        var churnLabels = SampleTable(
            schema: "analytics", name: "churn_labels",
            comment: "Whether each subscribed customer churned by 2024-07-01, with the churn model's score.",
            columns: [
                SampleColumn(name: "customer_id", type: .id, references: ("crm", "customers", "customer_id"), comment: "The labelled account."),
                SampleColumn(name: "label_date", type: .date, comment: "The day the label was taken."),
                SampleColumn(name: "churned", type: .bool, comment: "True when the subscription was cancelled by then."),
                SampleColumn(name: "churn_reason", type: .code, nullable: true, comment: "price, missing_feature, competitor or support; NULL when not churned or not given."),
                SampleColumn(name: "model_score", type: .real, comment: "Predicted churn probability, 0 to 1."),
            ],
            primaryKey: ["customer_id"])
        for customer in churned.keys.sorted() {
            let didChurn = churned[customer] ?? false
            churnLabels.rows.append([
                .int(customer + 1), .date(SampleCalendar.days(2024, 7, 1)), .bool(didChurn),
                didChurn && random.chance(0.7) ? .text(random.pick(["price", "missing_feature", "competitor", "support"])) : .null,
                .real(didChurn ? 0.45 + 0.55 * random.unit() : 0.6 * random.unit()),
            ])
        }

        return [customers, contacts, pii, products, orders, items, plans, subscriptions, invoices, sessions, events, churnLabels]
    }
}
