"""Demo data set: two hotels (Madrid, Buenos Aires), five room types each, rooms, price rules.

Shapes follow the QloApps installer demo (docs/external-apis/qloapps.md#catalogue) and the field lists of docs/external-apis/qloapps.md#catalogue; the content
(names, addresses, policies, prices) is made up for Posada.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from datetime import date

from .store import insert, now_str

DEV_API_KEY = "POSADADEVQLOAPPSKEY0000000000001"
READONLY_KEY = "POSADAREADONLYKEY000000000000002"
INACTIVE_KEY = "POSADAINACTIVEKEY000000000000003"
HOTELS_ONLY_KEY = "POSADAHOTELSONLYKEY0000000000004"

ALL = ["GET", "HEAD", "POST", "PUT", "DELETE"]


def t(en: str, es: str, pt: str | None = None) -> dict[str, str]:
    """An i18n value for the shop languages 1 = en, 2 = es, 3 = pt (Brazil).

    Like QloApps when a language is added, a missing Portuguese text is a copy of the default
    (English) one.
    """
    return {"1": en, "2": es, "3": en if pt is None else pt}


def upsert_main_key(conn: sqlite3.Connection, api_key: str) -> None:
    conn.execute(
        "INSERT INTO ws_keys (key, active, description, permissions) VALUES (?, 1, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET active = 1, permissions = excluded.permissions",
        (api_key, "Posada PMS adapter", json.dumps({"*": ALL})),
    )


def _policies(items: list[tuple[str, str, str, str, str, str]]) -> dict[str, str]:
    """(heading, text) per language: en, es, pt → one HTML paragraph per policy."""
    return {
        str(lang): "".join(
            f"<p><strong>{item[2 * i]}:</strong> {item[2 * i + 1]}</p>" for item in items
        )
        for i, lang in enumerate((1, 2, 3))
    }


MADRID_POLICIES = [
    (
        "Check-in",
        "From 15:00. Early check-in from 12:00 on request, subject to availability. A photo ID or passport is required.",
        "Entrada",
        "A partir de las 15:00. Entrada anticipada desde las 12:00 bajo petición y según disponibilidad. Se requiere documento de identidad o pasaporte.",
        "Check-in",
        "A partir das 15h. Check-in antecipado a partir das 12h mediante solicitação, sujeito à disponibilidade. É necessário apresentar documento de identidade com foto ou passaporte.",
    ),
    (
        "Check-out",
        "Until 12:00. Late check-out until 15:00 costs 30 EUR, on request.",
        "Salida",
        "Hasta las 12:00. Salida tardía hasta las 15:00 por 30 EUR, bajo petición.",
        "Check-out",
        "Até as 12h. Check-out tardio até as 15h custa 30 EUR, mediante solicitação.",
    ),
    (
        "Cancellation",
        "Free cancellation up to 7 days before arrival. From 7 to 2 days before arrival the first night is charged; later cancellations and no-shows pay 100 % of the stay.",
        "Cancelación",
        "Cancelación gratuita hasta 7 días antes de la llegada. Entre 7 y 2 días antes se cobra la primera noche; cancelaciones posteriores y no presentación pagan el 100 % de la estancia.",
        "Cancelamento",
        "Cancelamento gratuito até 7 dias antes da chegada. Entre 7 e 2 dias antes da chegada é cobrada a primeira noite; cancelamentos posteriores e não comparecimento (no-show) pagam 100 % da estadia.",
    ),
    (
        "Payment",
        "Pay at the hotel on arrival. We accept Visa, Mastercard, American Express and cash (EUR). A card guarantee may be requested.",
        "Pago",
        "Pago en el hotel a la llegada. Aceptamos Visa, Mastercard, American Express y efectivo (EUR). Puede solicitarse una tarjeta como garantía.",
        "Pagamento",
        "Pagamento no hotel na chegada. Aceitamos Visa, Mastercard, American Express e dinheiro (EUR). Pode ser solicitado um cartão de crédito como garantia.",
    ),
    (
        "Children",
        "Children of all ages are welcome. Children under 3 stay free in a cot (on request). Extra beds only in Family Rooms and the Junior Suite.",
        "Niños",
        "Se admiten niños de todas las edades. Menores de 3 años gratis en cuna (bajo petición). Camas supletorias solo en Habitaciones Familiares y Junior Suite.",
        "Crianças",
        "Crianças de todas as idades são bem-vindas. Menores de 3 anos se hospedam grátis em berço (mediante solicitação). Camas extras somente nos Quartos Família e na Suíte Júnior.",
    ),
    (
        "Pets",
        "Small pets (up to 10 kg) are allowed on request for 15 EUR per night. Not allowed in the breakfast room.",
        "Mascotas",
        "Se admiten mascotas pequeñas (hasta 10 kg) bajo petición por 15 EUR por noche. No se permiten en el comedor del desayuno.",
        "Animais de estimação",
        "Aceitamos animais de estimação de pequeno porte (até 10 kg) mediante solicitação, por 15 EUR por noite. Não são permitidos na sala do café da manhã.",
    ),
    (
        "Smoking",
        "The hotel is entirely non-smoking, including balconies. Smoking in a room carries a 150 EUR cleaning fee.",
        "Tabaco",
        "Todo el hotel es libre de humo, balcones incluidos. Fumar en la habitación conlleva un cargo de limpieza de 150 EUR.",
        "Proibido fumar",
        "Todo o hotel é livre de fumo, inclusive as varandas. Fumar no quarto gera uma taxa de limpeza de 150 EUR.",
    ),
    (
        "City tax",
        "Not applicable in Madrid at present.",
        "Tasa turística",
        "Actualmente no se aplica en Madrid.",
        "Taxa turística",
        "No momento não se aplica em Madri.",
    ),
]

BA_POLICIES = [
    (
        "Check-in",
        "From 14:00. Photo ID or passport required; foreign guests must show the passport and entry stamp to be exempt from VAT.",
        "Entrada",
        "A partir de las 14:00. Se requiere DNI o pasaporte; los huéspedes extranjeros deben presentar pasaporte y sello de ingreso para la exención de IVA.",
        "Check-in",
        "A partir das 14h. É necessário documento de identidade ou passaporte; hóspedes estrangeiros devem apresentar o passaporte e o carimbo de entrada no país para a isenção do IVA.",
    ),
    (
        "Check-out",
        "Until 10:00. Luggage storage is free on the day of departure.",
        "Salida",
        "Hasta las 10:00. La guarda de equipaje es gratuita el día de salida.",
        "Check-out",
        "Até as 10h. O guarda-volumes é gratuito no dia da saída.",
    ),
    (
        "Cancellation",
        "Free cancellation up to 72 hours before arrival. Later cancellations and no-shows are charged the first night.",
        "Cancelación",
        "Cancelación gratuita hasta 72 horas antes de la llegada. Cancelaciones posteriores y no presentación: se cobra la primera noche.",
        "Cancelamento",
        "Cancelamento gratuito até 72 horas antes da chegada. Cancelamentos posteriores e não comparecimento (no-show) pagam a primeira noite.",
    ),
    (
        "Payment",
        "Pay at the hotel. Cash (ARS, USD), debit and credit cards (Visa, Mastercard). Prices in ARS include VAT (21 %) for residents.",
        "Pago",
        "Pago en el hotel. Efectivo (ARS, USD), tarjetas de débito y crédito (Visa, Mastercard). Precios en ARS con IVA (21 %) para residentes.",
        "Pagamento",
        "Pagamento no hotel. Dinheiro (ARS, USD), cartões de débito e de crédito (Visa, Mastercard). Os preços em ARS incluem IVA (21 %) para residentes.",
    ),
    (
        "Children",
        "Children welcome. Children under 4 stay free using existing bedding; cots free on request.",
        "Niños",
        "Se admiten niños. Menores de 4 años sin cargo compartiendo cama; cunas gratis bajo petición.",
        "Crianças",
        "Crianças são bem-vindas. Menores de 4 anos não pagam usando as camas existentes; berços gratuitos mediante solicitação.",
    ),
    (
        "Pets",
        "Pets are not allowed, except assistance dogs.",
        "Mascotas",
        "No se admiten mascotas, excepto perros de asistencia.",
        "Animais de estimação",
        "Não são permitidos animais de estimação, exceto cães de assistência.",
    ),
    (
        "Smoking",
        "Non-smoking rooms. Smoking is allowed only on the rooftop terrace.",
        "Tabaco",
        "Habitaciones libres de humo. Solo se permite fumar en la terraza de la azotea.",
        "Proibido fumar",
        "Quartos para não fumantes. Só é permitido fumar no terraço da cobertura.",
    ),
]

# hotel features: (id, parent, name_en, name_es)
# hotel features: (id, parent, name_en, name_es, name_pt)
HOTEL_FEATURES = [
    (1, 0, "Complimentary", "Gratuito", "Cortesia"),
    (2, 1, "Wi-Fi", "Wi-Fi", "Wi-Fi"),
    (3, 1, "Breakfast buffet", "Desayuno buffet", "Café da manhã em bufê"),
    (4, 1, "Luggage storage", "Consigna de equipaje", "Guarda-volumes"),
    (5, 0, "Facilities", "Instalaciones", "Instalações"),
    (6, 5, "24-hour front desk", "Recepción 24 horas", "Recepção 24 horas"),
    (7, 5, "Lift", "Ascensor", "Elevador"),
    (8, 5, "Rooftop terrace", "Terraza en la azotea", "Terraço na cobertura"),
    (9, 5, "Fitness room", "Gimnasio", "Academia"),
    (
        10,
        5,
        "Outdoor pool (seasonal)",
        "Piscina exterior (de temporada)",
        "Piscina externa (sazonal)",
    ),
    (
        11,
        5,
        "Paid parking nearby",
        "Aparcamiento de pago cercano",
        "Estacionamento pago nas proximidades",
    ),
    (12, 0, "Services", "Servicios", "Serviços"),
    (
        13,
        12,
        "Airport transfer (paid)",
        "Traslado al aeropuerto (de pago)",
        "Traslado para o aeroporto (pago)",
    ),
    (14, 12, "Laundry service", "Servicio de lavandería", "Serviço de lavanderia"),
    (
        15,
        12,
        "Room service 07:00-23:00",
        "Servicio de habitaciones 07:00-23:00",
        "Serviço de quarto 07:00-23:00",
    ),
    (16, 12, "Tour desk", "Mostrador de excursiones", "Balcão de passeios"),
    (17, 0, "Accessibility", "Accesibilidad", "Acessibilidade"),
    (18, 17, "Wheelchair-accessible rooms", "Habitaciones adaptadas", "Quartos adaptados"),
]
HOTEL_FEATURE_LINKS = {1: [2, 3, 4, 6, 7, 8, 9, 11, 13, 14, 15, 18], 2: [2, 3, 4, 6, 8, 10, 13, 16]}

ROOM_FEATURES = [
    (1, "Wi-Fi", "Wi-Fi", "Wi-Fi"),
    (2, "Air conditioning", "Aire acondicionado", "Ar condicionado"),
    (3, "Heating", "Calefacción", "Aquecimento"),
    (4, "Flat-screen TV", "TV de pantalla plana", "TV de tela plana"),
    (
        5,
        "Private bathroom with shower",
        "Baño privado con ducha",
        "Banheiro privativo com chuveiro",
    ),
    (6, "Bathtub", "Bañera", "Banheira"),
    (7, "Minibar", "Minibar", "Frigobar"),
    (8, "Safe", "Caja fuerte", "Cofre"),
    (9, "Hairdryer", "Secador de pelo", "Secador de cabelo"),
    (10, "Coffee machine", "Cafetera", "Cafeteira"),
    (11, "Balcony", "Balcón", "Varanda"),
    (12, "Sofa bed", "Sofá cama", "Sofá-cama"),
    (13, "Work desk", "Escritorio", "Escrivaninha"),
    (14, "City view", "Vistas a la ciudad", "Vista para a cidade"),
]

REFUND_RULES = [
    # id, days, full-pay deduction %, adv-pay deduction %, name, description
    (
        1,
        7,
        0.0,
        0.0,
        t(
            "Free cancellation (7+ days)",
            "Cancelación gratuita (7+ días)",
            "Cancelamento gratuito (7+ dias)",
        ),
        t(
            "Cancel 7 or more days before arrival: full refund.",
            "Cancelando 7 o más días antes de la llegada: reembolso total.",
            "Cancelando com 7 ou mais dias de antecedência da chegada: reembolso total.",
        ),
    ),
    (
        2,
        2,
        30.0,
        50.0,
        t(
            "Late cancellation (2-6 days)",
            "Cancelación tardía (2-6 días)",
            "Cancelamento tardio (2-6 dias)",
        ),
        t(
            "Cancel 2 to 6 days before arrival: first night charged.",
            "Cancelando entre 2 y 6 días antes: se cobra la primera noche.",
            "Cancelando entre 2 e 6 dias antes: é cobrada a primeira noite.",
        ),
    ),
    (
        3,
        3,
        0.0,
        0.0,
        t(
            "Free cancellation (72 h)",
            "Cancelación gratuita (72 h)",
            "Cancelamento gratuito (72 h)",
        ),
        t(
            "Cancel 72 hours or more before arrival: full refund.",
            "Cancelando 72 horas o más antes: reembolso total.",
            "Cancelando com 72 horas ou mais de antecedência: reembolso total.",
        ),
    ),
]
REFUND_LINKS = {1: [1, 2], 2: [3]}

# room types: (product id, hotel, hotel_room_type id, names, base price, tax group,
#   base adults, base children, max adults, max children, max guests, min_los,
#   rooms [(room_num, floor, id_status, comment)], features, description)
ROOM_TYPES = [
    (
        11,
        1,
        1,
        t("Single Room", "Habitación Individual", "Quarto Individual"),
        85.0,
        1,
        (1, 0, 1, 0, 1),
        1,
        [("101", "First", 1, ""), ("102", "First", 1, ""), ("103", "First", 1, "")],
        [1, 2, 3, 4, 5, 8, 9, 13],
        t(
            "Quiet 14 m² interior room with a 105 cm bed, desk and rain shower.",
            "Habitación interior tranquila de 14 m² con cama de 105 cm, escritorio y ducha de lluvia.",
            "Quarto interno e silencioso de 14 m² com cama de 105 cm, escrivaninha e chuveiro de teto.",
        ),
    ),
    (
        12,
        1,
        2,
        t("Double Room", "Habitación Doble", "Quarto Duplo"),
        120.0,
        1,
        (2, 0, 2, 1, 3),
        1,
        [
            ("201", "Second", 1, ""),
            ("202", "Second", 1, ""),
            ("203", "Second", 1, ""),
            ("204", "Second", 1, ""),
            ("205", "Second", 2, "Under renovation"),
        ],
        [1, 2, 3, 4, 5, 7, 8, 9, 14],
        t(
            "20 m² room with a 160 cm double bed facing Calle de las Huertas; a cot fits for one child.",
            "Habitación de 20 m² con cama doble de 160 cm a la calle de las Huertas; admite una cuna.",
            "Quarto de 20 m² com cama de casal de 160 cm, de frente para a Calle de las Huertas; comporta um berço para uma criança.",
        ),
    ),
    (
        13,
        1,
        3,
        t("Twin Room", "Habitación Twin", "Quarto Twin"),
        115.0,
        1,
        (2, 0, 2, 0, 2),
        1,
        [("206", "Second", 1, ""), ("207", "Second", 1, "")],
        [1, 2, 3, 4, 5, 8, 9],
        t(
            "20 m² room with two 90 cm beds.",
            "Habitación de 20 m² con dos camas de 90 cm.",
            "Quarto de 20 m² com duas camas de 90 cm.",
        ),
    ),
    (
        14,
        1,
        4,
        t("Junior Suite", "Junior Suite", "Suíte Júnior"),
        240.0,
        1,
        (2, 0, 3, 2, 4),
        2,
        [("301", "Third", 1, "Top floor, balcony")],
        [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 14],
        t(
            "35 m² top-floor suite with balcony, king-size bed, sofa bed and bathtub. Minimum stay 2 nights.",
            "Suite de 35 m² en la última planta con balcón, cama king size, sofá cama y bañera. Estancia mínima 2 noches.",
            "Suíte de 35 m² no último andar com varanda, cama king size, sofá-cama e banheira. Estadia mínima de 2 noites.",
        ),
    ),
    (
        15,
        1,
        5,
        t("Family Room", "Habitación Familiar", "Quarto Família"),
        180.0,
        1,
        (2, 2, 4, 3, 5),
        1,
        [("302", "Third", 1, ""), ("303", "Third", 1, "")],
        [1, 2, 3, 4, 5, 7, 8, 9, 12],
        t(
            "30 m² room with a double bed and a bunk bed, ideal for two adults and up to three children.",
            "Habitación de 30 m² con cama doble y litera, ideal para dos adultos y hasta tres niños.",
            "Quarto de 30 m² com cama de casal e beliche, ideal para dois adultos e até três crianças.",
        ),
    ),
    (
        16,
        2,
        6,
        t("Single Room", "Habitación Single", "Quarto Individual"),
        65000.0,
        2,
        (1, 0, 1, 0, 1),
        1,
        [("101", "First", 1, ""), ("102", "First", 1, "")],
        [1, 2, 3, 4, 5, 8],
        t(
            "Compact 12 m² room with a single bed overlooking the patio.",
            "Habitación compacta de 12 m² con cama individual al patio.",
            "Quarto compacto de 12 m² com cama de solteiro e vista para o pátio.",
        ),
    ),
    (
        17,
        2,
        7,
        t("Double Room", "Habitación Doble", "Quarto Duplo"),
        95000.0,
        2,
        (2, 0, 2, 1, 3),
        1,
        [("201", "Second", 1, ""), ("202", "Second", 1, ""), ("203", "Second", 1, "")],
        [1, 2, 3, 4, 5, 8, 9, 11],
        t(
            "18 m² room with a queen bed and French balcony over Calle Defensa.",
            "Habitación de 18 m² con cama queen y balcón francés sobre la calle Defensa.",
            "Quarto de 18 m² com cama queen e sacada francesa sobre a rua Defensa.",
        ),
    ),
    (
        18,
        2,
        8,
        t("Twin Room", "Habitación Twin", "Quarto Twin"),
        90000.0,
        2,
        (2, 0, 2, 0, 2),
        1,
        [("204", "Second", 1, ""), ("205", "Second", 1, "")],
        [1, 2, 3, 4, 5, 8],
        t(
            "18 m² room with two single beds.",
            "Habitación de 18 m² con dos camas individuales.",
            "Quarto de 18 m² com duas camas de solteiro.",
        ),
    ),
    (
        19,
        2,
        9,
        t("Tango Suite", "Suite Tango", "Suíte Tango"),
        210000.0,
        2,
        (2, 0, 3, 2, 4),
        2,
        [("301", "Third", 1, "Rooftop access")],
        [1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14],
        t(
            "40 m² suite with original 1890s ceilings, king bed, sofa bed and private terrace. Minimum stay 2 nights.",
            "Suite de 40 m² con techos originales de 1890, cama king, sofá cama y terraza privada. Estancia mínima 2 noches.",
            "Suíte de 40 m² com tetos originais de 1890, cama king, sofá-cama e terraço privativo. Estadia mínima de 2 noites.",
        ),
    ),
    (
        20,
        2,
        10,
        t("Family Room", "Habitación Familiar", "Quarto Família"),
        150000.0,
        2,
        (2, 2, 4, 3, 5),
        1,
        [("302", "Third", 1, "")],
        [1, 2, 3, 4, 5, 8, 12],
        t(
            "28 m² room with a double bed and two single beds.",
            "Habitación de 28 m² con cama doble y dos camas individuales.",
            "Quarto de 28 m² com cama de casal e duas camas de solteiro.",
        ),
    ),
]

ORDER_STATES = [
    (1, "Awaiting payment", "En espera de pago", "Aguardando pagamento", 0, "#4169E1"),
    (
        2,
        "Complete payment received",
        "Pago completo recibido",
        "Pagamento integral recebido",
        1,
        "#32CD32",
    ),
    (3, "Processing in progress", "Preparación en curso", "Em processamento", 1, "#FF8C00"),
    (4, "Canceled", "Cancelado", "Cancelado", 0, "#DC143C"),
    (5, "Refunded", "Reembolsado", "Reembolsado", 1, "#ec2e15"),
    (6, "Payment error", "Error de pago", "Erro de pagamento", 0, "#8f0621"),
    (7, "Overbooking (paid)", "Sobreventa (pagado)", "Overbooking (pago)", 1, "#a52a2a"),
    (
        8,
        "Partial payment received",
        "Pago parcial recibido",
        "Pagamento parcial recebido",
        1,
        "#1E90FF",
    ),
    (
        9,
        "Awaiting remote payment",
        "En espera de pago remoto",
        "Aguardando pagamento remoto",
        0,
        "#4169E1",
    ),
    (
        10,
        "Remote payment accepted",
        "Pago remoto aceptado",
        "Pagamento remoto aceito",
        1,
        "#32CD32",
    ),
    (
        11,
        "Overbooking (not paid)",
        "Sobreventa (no pagado)",
        "Overbooking (não pago)",
        0,
        "#a52a2a",
    ),
    (
        12,
        "Overbooking (partial payment)",
        "Sobreventa (pago parcial)",
        "Overbooking (pagamento parcial)",
        1,
        "#a52a2a",
    ),
]


def _feature_prices(year0: int) -> list[tuple[int, dict]]:
    """Price rules per room type: (hotel id, rule). Generated for year0-1 .. year0+2."""
    rules: list[tuple[int, dict]] = []
    years = range(year0 - 1, year0 + 3)
    first, last = f"{year0 - 1}-01-01", f"{year0 + 2}-12-31"
    # Madrid: weekend (Fri/Sat nights) +15 %; high season spring/autumn +20 %,
    # high-season weekends +35 %; August low season -15 %; New Year's Eve fixed price.
    rules.append(
        (
            1,
            dict(
                n=t("Weekend", "Fin de semana", "Fim de semana"),
                f=first,
                to=last,
                days=["fri", "sat"],
                way=2,
                v=15,
            ),
        )
    )
    rules.append(
        (
            2,
            dict(
                n=t("Weekend", "Fin de semana", "Fim de semana"),
                f=first,
                to=last,
                days=["fri", "sat"],
                way=2,
                v=10,
            ),
        )
    )
    for y in years:
        for f, to in ((f"{y}-03-15", f"{y}-06-30"), (f"{y}-09-01", f"{y}-11-15")):
            rules.append(
                (
                    1,
                    dict(
                        n=t("High season", "Temporada alta", "Alta temporada"),
                        f=f,
                        to=to,
                        way=2,
                        v=20,
                    ),
                )
            )
            rules.append(
                (
                    1,
                    dict(
                        n=t(
                            "High season weekend",
                            "Fin de semana temporada alta",
                            "Fim de semana de alta temporada",
                        ),
                        f=f,
                        to=to,
                        days=["fri", "sat"],
                        way=2,
                        v=35,
                    ),
                )
            )
        rules.append(
            (
                1,
                dict(
                    n=t("August", "Agosto", "Agosto"), f=f"{y}-08-01", to=f"{y}-08-31", way=1, v=15
                ),
            )
        )
        rules.append(
            (
                1,
                dict(
                    n=t("New Year's Eve", "Nochevieja", "Réveillon"),
                    f=f"{y}-12-31",
                    specific=True,
                    v=None,
                ),
            )
        )
        # Buenos Aires: summer + winter holidays high season +25 %, weekends +10 %,
        # high-season weekends +35 %; May-June low season -10 %.
        for f, to in (
            (f"{y}-01-01", f"{y}-02-28"),
            (f"{y}-07-01", f"{y}-07-31"),
            (f"{y}-12-15", f"{y}-12-31"),
        ):
            rules.append(
                (
                    2,
                    dict(
                        n=t("High season", "Temporada alta", "Alta temporada"),
                        f=f,
                        to=to,
                        way=2,
                        v=25,
                    ),
                )
            )
            rules.append(
                (
                    2,
                    dict(
                        n=t(
                            "High season weekend",
                            "Fin de semana temporada alta",
                            "Fim de semana de alta temporada",
                        ),
                        f=f,
                        to=to,
                        days=["fri", "sat"],
                        way=2,
                        v=35,
                    ),
                )
            )
        rules.append(
            (
                2,
                dict(
                    n=t("Low season", "Temporada baja", "Baixa temporada"),
                    f=f"{y}-05-01",
                    to=f"{y}-06-30",
                    way=1,
                    v=10,
                ),
            )
        )
    return rules


def seed(conn: sqlite3.Connection) -> None:
    ts = now_str()
    year0 = date.today().year

    for code, name, iso, lang_code in (
        (1, "English (English)", "en", "en-us"),
        (2, "Español (Spanish)", "es", "es-es"),
        (3, "Português BR (Portuguese)", "pt", "pt-br"),
    ):
        insert(
            conn,
            "ws_languages",
            dict(
                id=code,
                name=name,
                iso_code=iso,
                language_code=lang_code,
                active=1,
                is_rtl=0,
                date_format_lite="m/d/Y" if iso == "en" else "d/m/Y",
                date_format_full="m/d/Y H:i:s" if iso == "en" else "d/m/Y H:i:s",
            ),
        )
    for cid, name, iso, num, sign, rate in (
        (1, "Euro", "EUR", "978", "€", 1.0),
        (2, "Argentine Peso", "ARS", "032", "$", 1150.0),
        (3, "US Dollar", "USD", "840", "$", 1.08),
    ):
        insert(
            conn,
            "ws_currencies",
            dict(
                id=cid,
                name=name,
                iso_code=iso,
                iso_code_num=num,
                blank=1,
                sign=sign,
                format=2,
                decimals=1,
                conversion_rate=rate,
                deleted=0,
                active=1,
            ),
        )
    insert(
        conn,
        "ws_countries",
        dict(
            id=6,
            id_zone=1,
            id_currency=0,
            call_prefix=34,
            iso_code="ES",
            active=1,
            contains_states=1,
            need_identification_number=0,
            need_zip_code=1,
            zip_code_format="NNNNN",
            display_tax_label=1,
            name=t("Spain", "España", "Espanha"),
        ),
    )
    insert(
        conn,
        "ws_countries",
        dict(
            id=44,
            id_zone=6,
            id_currency=0,
            call_prefix=54,
            iso_code="AR",
            active=1,
            contains_states=1,
            need_identification_number=0,
            need_zip_code=1,
            zip_code_format="LNNNNLLL",
            display_tax_label=1,
            name=t("Argentina", "Argentina", "Argentina"),
        ),
    )
    insert(
        conn,
        "ws_states",
        dict(id=341, id_zone=1, id_country=6, iso_code="M", name="Madrid", active=1),
    )
    insert(
        conn,
        "ws_states",
        dict(
            id=111,
            id_zone=6,
            id_country=44,
            iso_code="C",
            name="Ciudad Autónoma de Buenos Aires",
            active=1,
        ),
    )
    for cfg_name, value in (
        ("PS_CURRENCY_DEFAULT", "1"),
        ("PS_LANG_DEFAULT", "1"),
        ("PS_COUNTRY_DEFAULT", "6"),
        ("PS_WEBSERVICE", "1"),
        ("PS_ONE_PHONE_AT_LEAST", "1"),
        ("PS_SHOP_NAME", "Posada Hotels"),
        ("PS_SHOP_DOMAIN", "hotels.posada.example"),
        ("PS_SHOP_EMAIL", "reservas@posada.example"),
        ("PS_TIMEZONE", "Europe/Madrid"),
        ("HTL_FEATURE_PRICING_PRIORITY", "specific_date;special_day;date_range"),
        ("PS_OS_AWAITING_PAYMENT", "1"),
        ("PS_OS_PAYMENT_ACCEPTED", "2"),
        ("PS_OS_CANCELED", "4"),
        ("PS_OS_REFUND", "5"),
        ("PS_OS_ERROR", "6"),
        ("PS_OS_PARTIAL_PAYMENT_ACCEPTED", "8"),
    ):
        insert(
            conn,
            "ws_configurations",
            dict(name=cfg_name, value=value, id_shop_group=0, id_shop=0, date_add=ts, date_upd=ts),
        )
    conn.execute("INSERT INTO tax_rules_groups VALUES (1, 'ES Reduced rate (10%)', 10.0)")
    conn.execute("INSERT INTO tax_rules_groups VALUES (2, 'AR IVA (21%)', 21.0)")

    for sid, name_en, name_es, name_pt, paid, color in ORDER_STATES:
        insert(
            conn,
            "ws_order_states",
            dict(
                id=sid,
                unremovable=1,
                delivery=0,
                hidden=0,
                send_email=1 if sid in (2, 4, 5) else 0,
                module_name="",
                invoice=paid,
                color=color,
                logable=paid,
                shipped=0,
                paid=paid,
                pdf_delivery=0,
                pdf_invoice=paid,
                deleted=0,
                name=t(name_en, name_es, name_pt),
                template=t("", ""),
            ),
        )

    for fid, parent, en, es, pt in HOTEL_FEATURES:
        insert(
            conn,
            "ws_hotel_features",
            dict(
                id=fid,
                parent_feature_id=parent,
                position=fid,
                active=1,
                date_add=ts,
                date_upd=ts,
                name=t(en, es, pt),
            ),
        )
    for fid, en, es, pt in ROOM_FEATURES:
        insert(conn, "ws_room_type_features", dict(id=fid, position=fid, name=t(en, es, pt)))
    for rid, days, full, adv, rr_name, rr_desc in REFUND_RULES:
        insert(
            conn,
            "ws_hotel_refund_rules",
            dict(
                id=rid,
                payment_type=1,
                days=days,
                deduction_value_full_pay=full,
                deduction_value_adv_pay=adv,
                date_add=ts,
                date_upd=ts,
                name=rr_name,
                description=rr_desc,
            ),
        )

    insert(
        conn,
        "ws_hotels",
        dict(
            id=1,
            phone="+34 914 29 31 10",
            address="Calle de las Huertas, 21",
            id_country=6,
            id_state=341,
            city="Madrid",
            zipcode="28014",
            id_default_image=0,
            use_global_max_order_date=1,
            max_order_date="0000-00-00",
            use_global_preparation_time=1,
            preparation_time=0,
            id_category=11,
            email="reservas@posadadelprado.example",
            rating=4,
            check_in="15:00",
            check_out="12:00",
            active=1,
            latitude=40.414320,
            longitude=-3.698120,
            map_formated_address="Calle de las Huertas, 21, 28014 Madrid, Spain",
            map_input_text="Posada del Prado, Calle de las Huertas 21, Madrid",
            active_refund=1,
            date_add=ts,
            date_upd=ts,
            policies=_policies(MADRID_POLICIES),
            hotel_name=t("Posada del Prado", "Posada del Prado", "Posada del Prado"),
            description=t(
                "<p>A 19th-century townhouse in the Barrio de las Letras, a five-minute walk from the Prado Museum, "
                "Puerta del Sol and Plaza Santa Ana. 12 rooms, rooftop terrace and breakfast buffet. "
                "Metro Antón Martín (line 1) 300 m; Atocha station 900 m.</p>",
                "<p>Casa señorial del siglo XIX en el Barrio de las Letras, a cinco minutos a pie del Museo del Prado, "
                "la Puerta del Sol y la Plaza de Santa Ana. 12 habitaciones, terraza en la azotea y desayuno buffet. "
                "Metro Antón Martín (línea 1) a 300 m; estación de Atocha a 900 m.</p>",
                "<p>Casarão do século XIX no Barrio de las Letras, a cinco minutos a pé do Museu do Prado, "
                "da Puerta del Sol e da Plaza de Santa Ana. 12 quartos, terraço na cobertura e café da manhã "
                "em bufê. Metrô Antón Martín (linha 1) a 300 m; estação de Atocha a 900 m.</p>",
            ),
            short_description=t(
                "Boutique hotel in Madrid's literary quarter.",
                "Hotel boutique en el Barrio de las Letras de Madrid.",
                "Hotel boutique no bairro literário de Madri.",
            ),
        ),
    )
    insert(
        conn,
        "ws_hotels",
        dict(
            id=2,
            phone="+54 11 4361 0940",
            address="Defensa 1050",
            id_country=44,
            id_state=111,
            city="Buenos Aires",
            zipcode="C1065AAT",
            id_default_image=0,
            use_global_max_order_date=1,
            max_order_date="0000-00-00",
            use_global_preparation_time=1,
            preparation_time=0,
            id_category=12,
            email="reservas@posadasantelmo.example",
            rating=3,
            check_in="14:00",
            check_out="10:00",
            active=1,
            latitude=-34.620950,
            longitude=-58.371640,
            map_formated_address="Defensa 1050, C1065AAT CABA, Argentina",
            map_input_text="Posada San Telmo, Defensa 1050, Buenos Aires",
            active_refund=1,
            date_add=ts,
            date_upd=ts,
            policies=_policies(BA_POLICIES),
            hotel_name=t("Posada San Telmo", "Posada San Telmo", "Posada San Telmo"),
            description=t(
                "<p>Restored 1890s casa chorizo on Calle Defensa, one block from Plaza Dorrego and its Sunday "
                "antiques fair. 9 rooms around a patio, rooftop terrace with small pool, tango lessons on Thursdays. "
                "Subte line C (San Juan) 600 m; Ezeiza airport 35 km.</p>",
                "<p>Casa chorizo de 1890 restaurada en la calle Defensa, a una cuadra de Plaza Dorrego y su feria "
                "de antigüedades de los domingos. 9 habitaciones alrededor de un patio, terraza con pequeña piscina, "
                "clases de tango los jueves. Subte línea C (San Juan) a 600 m; aeropuerto de Ezeiza a 35 km.</p>",
                "<p>Casa chorizo de 1890 restaurada na rua Defensa, a uma quadra da Plaza Dorrego e de sua feira "
                "de antiguidades aos domingos. 9 quartos em volta de um pátio, terraço com pequena piscina e aulas "
                "de tango às quintas-feiras. Metrô linha C (San Juan) a 600 m; aeroporto de Ezeiza a 35 km.</p>",
            ),
            short_description=t(
                "Patio house hotel in historic San Telmo.",
                "Hotel en casona con patio en el histórico San Telmo.",
                "Hotel em casarão com pátio no histórico bairro de San Telmo.",
            ),
        ),
    )
    conn.execute("INSERT INTO hotel_currency VALUES (1, 1)")
    conn.execute("INSERT INTO hotel_currency VALUES (2, 2)")
    for hid, feats in HOTEL_FEATURE_LINKS.items():
        for fid in feats:
            conn.execute("INSERT INTO hotel_feature_link VALUES (?, ?)", (hid, fid))
    for hid, rule_ids in REFUND_LINKS.items():
        for rid in rule_ids:
            conn.execute("INSERT INTO hotel_refund_link VALUES (?, ?)", (hid, rid))

    room_id = 0
    for pid, hid, hrt_id, rt_name, price, tax, occ, min_los, rooms, feats, desc in ROOM_TYPES:
        adults, children, max_a, max_c, max_g = occ
        slug = {k: v.lower().replace(" ", "-") for k, v in rt_name.items()}
        insert(
            conn,
            "ws_room_types",
            dict(
                id=pid,
                id_hotel=hid,
                adults=adults,
                children=children,
                id_default_image=0,
                position_in_category=pid - 10,
                type="simple",
                id_category_default=11 if hid == 1 else 12,
                id_tax_rules_group=tax,
                reference=f"H{hid}-RT{pid}",
                on_sale=0,
                wholesale_price=0,
                price=price,
                active=1,
                available_for_order=1,
                show_price=1,
                visibility="both",
                condition="new",
                price_calculation_method=1,
                max_quantity=0,
                date_add=ts,
                date_upd=ts,
                name=rt_name,
                description={k: f"<p>{v}</p>" for k, v in desc.items()},
                description_short=desc,
                link_rewrite=slug,
                meta_title=rt_name,
                meta_description=t("", ""),
                meta_keywords=t("", ""),
                available_now=t("", ""),
                available_later=t("", ""),
                booking_product="1",
            ),
        )
        insert(
            conn,
            "ws_hotel_room_types",
            dict(
                id=hrt_id,
                id_product=pid,
                id_hotel=hid,
                adults=adults,
                children=children,
                max_adults=max_a,
                max_children=max_c,
                max_guests=max_g,
                min_los=min_los,
                max_los=0,
                date_add=ts,
                date_upd=ts,
            ),
        )
        for num, floor, status, comment in rooms:
            room_id += 1
            insert(
                conn,
                "ws_hotel_rooms",
                dict(
                    id=room_id,
                    id_product=pid,
                    id_hotel=hid,
                    room_num=num,
                    id_status=status,
                    floor=floor,
                    comment=comment,
                    date_add=ts,
                    date_upd=ts,
                ),
            )
        for fid in feats:
            conn.execute("INSERT INTO room_type_feature_link VALUES (?, ?)", (pid, fid))

    price_rules = _feature_prices(year0)
    for pid, hid, *_ in ROOM_TYPES:
        base = next(rt[4] for rt in ROOM_TYPES if rt[0] == pid)
        for rule_hotel, r in price_rules:
            if rule_hotel != hid:
                continue
            specific = r.get("specific", False)
            special = r.get("days")
            insert(
                conn,
                "ws_feature_prices",
                dict(
                    id_product=pid,
                    id_cart=0,
                    id_guest=0,
                    id_room=0,
                    date_selection_type=2 if specific else 1,
                    date_from=r["f"],
                    date_to=r["f"] if specific else r["to"],
                    is_special_days_exists=1 if special else 0,
                    special_days=json.dumps(special) if special else "false",
                    impact_way=3 if specific else r["way"],
                    impact_type=2 if specific else 1,
                    impact_value=round(base * 1.6, 2) if specific else float(r["v"]),
                    active=1,
                    date_add=ts,
                    date_upd=ts,
                    feature_price_name=r["n"],
                ),
            )

    insert(
        conn,
        "ws_customers",
        dict(
            id=1,
            id_default_group=3,
            id_lang=2,
            newsletter_date_add="0000-00-00 00:00:00",
            ip_registration_newsletter="",
            last_passwd_gen=ts,
            secure_key=secrets.token_hex(16),
            deleted=0,
            passwd=hashlib.sha256(b"demo-guest").hexdigest(),
            lastname="García",
            firstname="Ana",
            email="ana.garcia@example.com",
            phone="+34600111222",
            id_gender=2,
            birthday="0000-00-00",
            newsletter=0,
            optin=0,
            website="",
            company="",
            siret="",
            ape="",
            outstanding_allow_amount=0,
            show_public_prices=0,
            id_risk=0,
            max_payment_days=0,
            active=1,
            note="",
            is_guest=0,
            id_shop=1,
            id_shop_group=1,
            date_add=ts,
            date_upd=ts,
            reset_password_token="",
            reset_password_validity="0000-00-00 00:00:00",
        ),
    )

    for key, active, key_desc, perms in (
        (READONLY_KEY, 1, "read-only test key", {"*": ["GET", "HEAD"]}),
        (INACTIVE_KEY, 0, "inactive test key", {"*": ALL}),
        (HOTELS_ONLY_KEY, 1, "hotels-only test key", {"hotels": ["GET", "HEAD"]}),
    ):
        conn.execute(
            "INSERT INTO ws_keys VALUES (?, ?, ?, ?)", (key, active, key_desc, json.dumps(perms))
        )
    conn.execute("INSERT INTO meta VALUES ('seeded', ?)", (ts,))
