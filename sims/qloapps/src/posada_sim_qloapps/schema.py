"""Resource definitions of the generic (ObjectModel) webservice engine (docs/external-apis/qloapps.md#generic-resources, docs/external-apis/qloapps.md#catalogue).

Each generic resource is one SQLite table whose columns are the resource's fields. i18n fields
are stored as JSON objects ``{"1": "English", "2": "Español"}`` keyed by language id. "Virtual"
fields (getters in QloApps) are stored too, but are not filterable (400 code 34) nor sortable
(400 code 38), as in QloApps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GET_ONLY = frozenset({"GET", "HEAD"})
ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class F:
    """One field of a resource."""

    name: str
    kind: str = "str"  # int | bool | float | str | date | datetime
    i18n: bool = False
    virtual: bool = False
    required: bool = False
    readonly: bool = False
    xlink: str | None = None  # resource the value points at (XML xlink:href)
    default: object = None  # value a full-replacement PUT / POST leaves when absent


@dataclass(frozen=True)
class Assoc:
    """An association list shown in full views: ``associations.<name> = [{"id": ..}, ..]``."""

    name: str
    item: str
    api: str
    sql: str  # SELECT returning id (+ extra columns) for one object, param :id
    extra: tuple[str, ...] = ()


@dataclass
class Resource:
    name: str  # URL name
    plural: str  # JSON/XML list node
    singular: str  # JSON/XML object node
    fields: list[F]
    methods: frozenset[str] = GET_ONLY
    associations: list[Assoc] = field(default_factory=list)
    description: str = ""
    hidden: tuple[str, ...] = ()  # stored columns never shown (e.g. booking_product)

    @property
    def table(self) -> str:
        return "ws_" + self.name

    def field(self, name: str) -> F | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def _dates() -> list[F]:
    return [F("date_add", "datetime", readonly=True), F("date_upd", "datetime", readonly=True)]


HOTELS = Resource(
    "hotels",
    "hotels",
    "hotel",
    [
        F("phone", virtual=True, required=True),
        F("address", virtual=True, required=True),
        F("id_country", "int", virtual=True, required=True, xlink="countries"),
        F("id_state", "int", virtual=True, xlink="states"),
        F("city", virtual=True, required=True),
        F("zipcode", virtual=True),
        F("id_default_image", "int", virtual=True),
        F("use_global_max_order_date", "bool", virtual=True, default=1),
        F("max_order_date", "date", virtual=True, default="0000-00-00"),
        F("use_global_preparation_time", "bool", virtual=True, default=1),
        F("preparation_time", "int", virtual=True, default=0),
        F("id_category", "int"),
        F("email", required=True),
        F("rating", "int", required=True),
        F("check_in", required=True),
        F("check_out", required=True),
        F("active", "bool", default=0),
        F("latitude", "float", default=0),
        F("longitude", "float", default=0),
        F("map_formated_address"),
        F("map_input_text"),
        F("active_refund", "bool", default=0),
        *_dates(),
        F("policies", i18n=True),
        F("hotel_name", i18n=True, required=True),
        F("description", i18n=True),
        F("short_description", i18n=True),
    ],
    ALL_METHODS,
    [
        Assoc(
            "room_types",
            "room_type",
            "room_types",
            "SELECT id_product AS id FROM ws_hotel_room_types WHERE id_hotel = :id ORDER BY id_product",
        ),
        Assoc(
            "hotel_features",
            "hotel_feature",
            "hotel_features",
            "SELECT id_feature AS id FROM hotel_feature_link WHERE id_hotel = :id ORDER BY id_feature",
        ),
        Assoc(
            "hotel_refund_rules",
            "hotel_refund_rule",
            "hotel_refund_rules",
            "SELECT id_refund_rule AS id FROM hotel_refund_link WHERE id_hotel = :id ORDER BY id_refund_rule",
        ),
    ],
    "The hotels",
)

ROOM_TYPES = Resource(
    "room_types",
    "room_types",
    "room_type",
    [
        F("id_hotel", "int", virtual=True, xlink="hotels"),
        F("adults", "int", virtual=True),
        F("children", "int", virtual=True),
        F("id_default_image", "int", virtual=True),
        F("position_in_category", "int", virtual=True),
        F("type", virtual=True, default="simple"),
        F("id_category_default", "int"),
        F("id_tax_rules_group", "int", default=0),
        F("reference"),
        F("on_sale", "bool", default=0),
        F("wholesale_price", "float", default=0),
        F("price", "float", required=True),
        F("active", "bool", default=0),
        F("available_for_order", "bool", default=0),
        F("show_price", "bool", default=0),
        F("visibility", default="both"),
        F("condition", default="new"),
        F("price_calculation_method", "int", default=1),
        F("max_quantity", "int", default=0),
        *_dates(),
        F("name", i18n=True, required=True),
        F("description", i18n=True),
        F("description_short", i18n=True),
        F("link_rewrite", i18n=True),
        F("meta_title", i18n=True),
        F("meta_description", i18n=True),
        F("meta_keywords", i18n=True),
        F("available_now", i18n=True),
        F("available_later", i18n=True),
    ],
    ALL_METHODS,
    [
        Assoc(
            "hotel_rooms",
            "hotel_room",
            "hotel_rooms",
            "SELECT id FROM ws_hotel_rooms WHERE id_product = :id ORDER BY id",
        ),
        Assoc(
            "room_type_features",
            "room_type_feature",
            "room_type_features",
            "SELECT id_feature AS id FROM room_type_feature_link WHERE id_product = :id ORDER BY id_feature",
        ),
        Assoc(
            "feature_prices",
            "feature_price",
            "feature_prices",
            "SELECT id FROM ws_feature_prices WHERE id_product = :id ORDER BY id",
        ),
    ],
    "The room types",
    hidden=("booking_product",),
)

HOTEL_ROOM_TYPES = Resource(
    "hotel_room_types",
    "hotel_room_types",
    "hotel_room_type",
    [
        F("id_product", "int", required=True, xlink="room_types"),
        F("id_hotel", "int", required=True, xlink="hotels"),
        F("adults", "int", default=2),
        F("children", "int", default=0),
        F("max_adults", "int", default=2),
        F("max_children", "int", default=0),
        F("max_guests", "int", default=2),
        F("min_los", "int", default=1),
        F("max_los", "int", default=0),
        *_dates(),
    ],
    ALL_METHODS,
    [
        Assoc(
            "hotel_rooms",
            "hotel_room",
            "hotel_rooms",
            "SELECT r.id FROM ws_hotel_rooms r JOIN ws_hotel_room_types t ON t.id_product = r.id_product "
            "WHERE t.id = :id ORDER BY r.id",
        )
    ],
    "Room type occupancy and stay limits per hotel",
)

HOTEL_ROOMS = Resource(
    "hotel_rooms",
    "rooms",
    "room",
    [
        F("id_product", "int", required=True, xlink="room_types"),
        F("id_hotel", "int", readonly=True, xlink="hotels"),
        F("room_num", required=True),
        F("id_status", "int", required=True),
        F("floor"),
        F("comment"),
        *_dates(),
    ],
    ALL_METHODS,
    description="The physical rooms",
)

FEATURE_PRICES = Resource(
    "feature_prices",
    "feature_prices",
    "feature_price",
    [
        F("id_product", "int", required=True, xlink="room_types"),
        F("id_cart", "int", default=0),
        F("id_guest", "int", default=0),
        F("id_room", "int", default=0),
        F("date_selection_type", "int", default=1),
        F("date_from", "date", required=True),
        F("date_to", "date"),
        F("is_special_days_exists", "bool", default=0),
        F("special_days", default="false"),
        F("impact_way", "int", default=2),
        F("impact_type", "int", default=1),
        F("impact_value", "float", default=0),
        F("active", "bool", default=0),
        *_dates(),
        F("feature_price_name", i18n=True, required=True),
    ],
    ALL_METHODS,
    description="Price rules (weekend, season, specific dates)",
)

ROOM_BOOKINGS = Resource(
    "room_bookings",
    "bookings",
    "booking",
    [
        F("id_product", "int", xlink="room_types"),
        F("id_order", "int", xlink="orders"),
        F("id_order_detail", "int"),
        F("id_cart", "int"),
        F("id_room", "int", xlink="hotel_rooms"),
        F("id_hotel", "int", xlink="hotels"),
        F("id_customer", "int", xlink="customers"),
        F("booking_type", "int", default=1),
        F("id_status", "int", default=1),
        F("comment"),
        F("check_in", "datetime", default="0000-00-00 00:00:00"),
        F("check_out", "datetime", default="0000-00-00 00:00:00"),
        F("date_from", "datetime"),
        F("date_to", "datetime"),
        F("total_price_tax_excl", "float", default=0),
        F("total_price_tax_incl", "float", default=0),
        F("total_paid_amount", "float", default=0),
        F("is_back_order", "bool", default=0),
        F("is_refunded", "bool", default=0),
        F("is_cancelled", "bool", default=0),
        F("room_num"),
        F("room_type_name"),
        F("hotel_name"),
        F("city"),
        F("state"),
        F("country"),
        F("zipcode"),
        F("phone"),
        F("email"),
        F("check_in_time"),
        F("check_out_time"),
        F("adults", "int", default=0),
        F("children", "int", default=0),
        F("child_ages", default="[]"),
        *_dates(),
    ],
    ALL_METHODS,
    description="Booked rooms (one row per room and stay)",
)

HOTEL_FEATURES = Resource(
    "hotel_features",
    "hotel_features",
    "hotel_feature",
    [
        F("parent_feature_id", "int", default=0),
        F("position", "int", default=0),
        F("active", "bool", default=1),
        *_dates(),
        F("name", i18n=True, required=True),
    ],
    ALL_METHODS,
    description="Hotel amenities (tree)",
)

HOTEL_REFUND_RULES = Resource(
    "hotel_refund_rules",
    "hotel_refund_rules",
    "hotel_refund_rule",
    [
        F("payment_type", "int", default=1),
        F("days", "int", required=True),
        F("deduction_value_full_pay", "float", default=0),
        F("deduction_value_adv_pay", "float", default=0),
        *_dates(),
        F("name", i18n=True, required=True),
        F("description", i18n=True),
    ],
    ALL_METHODS,
    description="Cancellation (refund) rules",
)

ROOM_TYPE_FEATURES = Resource(
    "room_type_features",
    "room_type_features",
    "room_type_feature",
    [F("position", "int", default=0), F("name", i18n=True, required=True)],
    ALL_METHODS,
    description="Room amenities",
)

CUSTOMERS = Resource(
    "customers",
    "customers",
    "customer",
    [
        F("id_default_group", "int", default=3),
        F("id_lang", "int", default=1, xlink="languages"),
        F("newsletter_date_add", "datetime", default="0000-00-00 00:00:00"),
        F("ip_registration_newsletter"),
        F("last_passwd_gen", "datetime", readonly=True),
        F("secure_key", readonly=True),
        F("deleted", "bool", default=0),
        F("passwd", required=True),
        F("lastname", required=True),
        F("firstname", required=True),
        F("email", required=True),
        F("phone"),
        F("id_gender", "int", default=0),
        F("birthday", "date", default="0000-00-00"),
        F("newsletter", "bool", default=0),
        F("optin", "bool", default=0),
        F("website"),
        F("company"),
        F("siret"),
        F("ape"),
        F("outstanding_allow_amount", "float", default=0),
        F("show_public_prices", "bool", default=0),
        F("id_risk", "int", default=0),
        F("max_payment_days", "int", default=0),
        F("active", "bool", default=0),
        F("note"),
        F("is_guest", "bool", default=0),
        F("id_shop", "int", default=1),
        F("id_shop_group", "int", default=1),
        *_dates(),
        F("reset_password_token"),
        F("reset_password_validity", "datetime", default="0000-00-00 00:00:00"),
    ],
    ALL_METHODS,
    [
        Assoc(
            "groups",
            "group",
            "groups",
            "SELECT id_default_group AS id FROM ws_customers WHERE id = :id",
        )
    ],
    "The e-shop's customers",
)

ORDERS = Resource(
    "orders",
    "orders",
    "order",
    [
        F("id_address_delivery", "int", required=True),
        F("id_address_invoice", "int", required=True),
        F("id_cart", "int", required=True),
        F("id_currency", "int", required=True, xlink="currencies"),
        F("id_lang", "int", required=True, xlink="languages"),
        F("id_customer", "int", required=True, xlink="customers"),
        F("id_carrier", "int", default=0),
        F("current_state", "int", xlink="order_states"),
        F("module", required=True),
        F("invoice_number", "int", default=0),
        F("invoice_date", "datetime", default="0000-00-00 00:00:00"),
        F("delivery_number", "int", default=0),
        F("delivery_date", "datetime", default="0000-00-00 00:00:00"),
        F("valid", "bool", default=0),
        *_dates(),
        F("id_shop_group", "int", default=1),
        F("id_shop", "int", default=1),
        F("secure_key"),
        F("payment", required=True),
        F("payment_type"),
        F("recyclable", "bool", default=0),
        F("conversion_rate", "float", required=True),
        F("source"),
        F("total_discounts", "float", default=0),
        F("total_discounts_tax_incl", "float", default=0),
        F("total_discounts_tax_excl", "float", default=0),
        F("total_paid", "float", required=True),
        F("total_paid_tax_incl", "float", default=0),
        F("total_paid_tax_excl", "float", default=0),
        F("total_paid_real", "float", required=True),
        F("total_products", "float", required=True),
        F("total_products_wt", "float", required=True),
        F("round_mode", "int", default=2),
        F("round_type", "int", default=2),
        F("is_advance_payment", "bool", default=0),
        F("advance_paid_amount", "float", default=0),
        F("with_occupancy", "bool", default=1),
        F("reference"),
    ],
    ALL_METHODS,
    [
        Assoc(
            "bookings",
            "booking",
            "room_bookings",
            "SELECT id FROM ws_room_bookings WHERE id_order = :id ORDER BY id",
        )
    ],
    "The customers' orders",
)

ORDER_HISTORIES = Resource(
    "order_histories",
    "order_histories",
    "order_history",
    [
        F("id_employee", "int", default=0),
        F("id_order_state", "int", required=True, xlink="order_states"),
        F("id_order", "int", required=True, xlink="orders"),
        F("date_add", "datetime", readonly=True),
    ],
    frozenset({"GET", "HEAD", "POST"}),
    description="The order histories",
)

ORDER_STATES = Resource(
    "order_states",
    "order_states",
    "order_state",
    [
        F("unremovable", "bool", default=1),
        F("delivery", "bool", default=0),
        F("hidden", "bool", default=0),
        F("send_email", "bool", default=0),
        F("module_name"),
        F("invoice", "bool", default=0),
        F("color"),
        F("logable", "bool", default=0),
        F("shipped", "bool", default=0),
        F("paid", "bool", default=0),
        F("pdf_delivery", "bool", default=0),
        F("pdf_invoice", "bool", default=0),
        F("deleted", "bool", default=0),
        F("name", i18n=True, required=True),
        F("template", i18n=True),
    ],
    GET_ONLY,
    description="The order statuses",
)

CURRENCIES = Resource(
    "currencies",
    "currencies",
    "currency",
    [
        F("name", required=True),
        F("iso_code", required=True),
        F("iso_code_num"),
        F("blank", "int", default=0),
        F("sign", required=True),
        F("format", "int", default=2),
        F("decimals", "int", default=1),
        F("conversion_rate", "float", required=True),
        F("deleted", "bool", default=0),
        F("active", "bool", default=1),
    ],
    GET_ONLY,
    description="The currencies",
)

LANGUAGES = Resource(
    "languages",
    "languages",
    "language",
    [
        F("name", required=True),
        F("iso_code", required=True),
        F("language_code"),
        F("active", "bool", default=1),
        F("is_rtl", "bool", default=0),
        F("date_format_lite", default="Y-m-d"),
        F("date_format_full", default="Y-m-d H:i:s"),
    ],
    GET_ONLY,
    description="Shop languages",
)

COUNTRIES = Resource(
    "countries",
    "countries",
    "country",
    [
        F("id_zone", "int", required=True),
        F("id_currency", "int", default=0),
        F("call_prefix", "int", default=0),
        F("iso_code", required=True),
        F("active", "bool", default=1),
        F("contains_states", "bool", default=0),
        F("need_identification_number", "bool", default=0),
        F("need_zip_code", "bool", default=1),
        F("zip_code_format"),
        F("display_tax_label", "bool", default=1),
        F("name", i18n=True, required=True),
    ],
    GET_ONLY,
    description="The countries",
)

STATES = Resource(
    "states",
    "states",
    "state",
    [
        F("id_zone", "int", required=True),
        F("id_country", "int", required=True, xlink="countries"),
        F("iso_code", required=True),
        F("name", required=True),
        F("active", "bool", default=1),
    ],
    GET_ONLY,
    description="The available states of countries",
)

CONFIGURATIONS = Resource(
    "configurations",
    "configurations",
    "configuration",
    [
        F("value"),
        F("name", required=True),
        F("id_shop_group", "int", default=0),
        F("id_shop", "int", default=0),
        *_dates(),
    ],
    GET_ONLY,
    description="Shop configuration",
)

GENERIC: dict[str, Resource] = {
    r.name: r
    for r in [
        HOTELS,
        ROOM_TYPES,
        HOTEL_ROOM_TYPES,
        HOTEL_ROOMS,
        FEATURE_PRICES,
        ROOM_BOOKINGS,
        HOTEL_FEATURES,
        HOTEL_REFUND_RULES,
        ROOM_TYPE_FEATURES,
        CUSTOMERS,
        ORDERS,
        ORDER_HISTORIES,
        ORDER_STATES,
        CURRENCIES,
        LANGUAGES,
        COUNTRIES,
        STATES,
        CONFIGURATIONS,
    ]
}

# Specific-management resources (docs/external-apis/qloapps.md#availability-search, docs/external-apis/qloapps.md#booking-create) and their allowed methods.
SPECIFIC: dict[str, tuple[frozenset[str], str]] = {
    "bookings": (frozenset({"GET", "HEAD", "POST", "PUT"}), "Manage bookings"),
    "hotel_ari": (frozenset({"GET", "HEAD", "POST"}), "Search availability, rates and inventory"),
}

ALL_RESOURCES = sorted([*GENERIC, *SPECIFIC])

# Tables that are not webservice resources.
EXTRA_DDL = [
    "CREATE TABLE IF NOT EXISTS ws_keys (key TEXT PRIMARY KEY, active INTEGER NOT NULL, "
    "description TEXT, permissions TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hotel_feature_link (id_hotel INTEGER, id_feature INTEGER)",
    "CREATE TABLE IF NOT EXISTS hotel_refund_link (id_hotel INTEGER, id_refund_rule INTEGER)",
    "CREATE TABLE IF NOT EXISTS room_type_feature_link (id_product INTEGER, id_feature INTEGER)",
    "CREATE TABLE IF NOT EXISTS tax_rules_groups (id INTEGER PRIMARY KEY, name TEXT, rate REAL)",
    # Stand-in only: which currency the prices of a hotel are kept in (see README "currencies").
    "CREATE TABLE IF NOT EXISTS hotel_currency (id_hotel INTEGER PRIMARY KEY, id_currency INTEGER)",
    "CREATE TABLE IF NOT EXISTS order_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "id_order INTEGER, message TEXT, date_add TEXT)",
    "CREATE TABLE IF NOT EXISTS order_payments (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "id_order INTEGER, amount REAL, payment_method TEXT, payment_type TEXT, transaction_id TEXT, "
    "date_add TEXT)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
]


def ddl() -> list[str]:
    out: list[str] = []
    for r in GENERIC.values():
        cols = ["id INTEGER PRIMARY KEY AUTOINCREMENT"]
        for f in r.fields:
            ctype = {"int": "INTEGER", "bool": "INTEGER", "float": "REAL"}.get(f.kind, "TEXT")
            cols.append(f'"{f.name}" {ctype}')
        for h in r.hidden:
            cols.append(f'"{h}" TEXT')
        out.append(f"CREATE TABLE IF NOT EXISTS {r.table} ({', '.join(cols)})")
    out.extend(EXTRA_DDL)
    out.append(
        "CREATE INDEX IF NOT EXISTS ix_rb_room ON ws_room_bookings (id_room, date_from, date_to)"
    )
    out.append("CREATE INDEX IF NOT EXISTS ix_rb_order ON ws_room_bookings (id_order)")
    out.append("CREATE INDEX IF NOT EXISTS ix_orders_source ON ws_orders (source)")
    return out
