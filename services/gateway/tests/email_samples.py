"""Real-world-shaped guest e-mails (headers and bodies as the clients write them)."""

from __future__ import annotations

import base64

HOTEL = "reservas@posada-demo.example"

GMAIL_REPLY_ES = f"""\
MIME-Version: 1.0
Date: Thu, 3 Dec 2026 10:12:40 +0100
References: <posada.aaa@posada-demo.example>
In-Reply-To: <posada.aaa@posada-demo.example>
Message-ID: <CAF7x1Q2b3=guest-msg-0002@mail.gmail.com>
Subject: Re: Disponibilidad diciembre
From: =?UTF-8?Q?Ana_Garc=C3=ADa?= <ana.garcia@gmail.com>
To: Posada Demo Hotel <{HOTEL}>
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Perfecto, me quedo con la doble. =C2=BFIncluye desayuno?

Un saludo,
Ana

El jue, 3 dic 2026 a las 9:58, Posada Demo Hotel (<{HOTEL}>)
escribi=C3=B3:

> Hola Ana:
>
> Tenemos habitaci=C3=B3n doble por 120 =E2=82=AC la noche.
>

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">Perfecto, me quedo con la doble. =C2=BFIncluye desayuno?<d=
iv><br></div><div>Un saludo,</div><div>Ana</div></div><br><div class=3D"gma=
il_quote"><div dir=3D"ltr" class=3D"gmail_attr">El jue, 3 dic 2026 a las 9:=
58, Posada Demo Hotel escribi=C3=B3:<br></div><blockquote class=3D"gmail_qu=
ote">Hola Ana:<br>Tenemos habitaci=C3=B3n doble</blockquote></div>

--000000000000a1b2c3--
"""

OUTLOOK_HTML_ONLY = f"""\
From: John Smith <John.Smith@outlook.com>
To: "{HOTEL}" <{HOTEL}>
Subject: RE: Room for two nights
Date: Thu, 3 Dec 2026 09:01:02 +0000
Message-ID: <AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com>
Thread-Topic: Room for two nights
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

<html><head><style>p{{margin:0}}</style></head><body><div class=3D"WordSection1">
<p class=3DMsoNormal>Hi,<o:p></o:p></p><p class=3DMsoNormal>Do you have a double room from 10 to 12 December for 2 adults?<o:p></o:p></p>
<p class=3DMsoNormal>Thanks<br>John</p></div>
<div id=3D"appendonsend"></div><hr style=3D"display:inline-block;width:98%">
<div id=3D"divRplyFwdMsg" dir=3D"ltr"><font face=3D"Calibri"><b>From:</b> Posada Demo Hotel<br><b>Sent:</b> Wednesday<br><b>Subject:</b> Room</font></div>
<div>We have rooms available from 90 EUR.</div></body></html>
"""

APPLE_MAIL_PT = f"""\
From: =?utf-8?Q?Jo=C3=A3o_Silva?= <joao.silva@icloud.com>
Content-Type: multipart/alternative; boundary="Apple-Mail=_7E1C"
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Subject: Re: Reserva
Date: Thu, 3 Dec 2026 11:20:00 +0000
In-Reply-To: <posada.bbb@posada-demo.example>
To: {HOTEL}
Message-Id: <5D3A2B1C-7E1C-4A8B-9F10-0123456789AB@icloud.com>

--Apple-Mail=_7E1C
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain; charset=utf-8

Ol=C3=A1, queria mudar a reserva para tr=C3=AAs noites.

Obrigado,
Jo=C3=A3o

Enviado do meu iPhone

> Em 2 de dez. de 2026, =C3=A0(s) 18:00, Posada Demo Hotel <{HOTEL}> escreveu:
>=20
> Ol=C3=A1 Jo=C3=A3o,
> A sua reserva est=C3=A1 confirmada.

--Apple-Mail=_7E1C
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html; charset=utf-8

<html><body><div>Ol=C3=A1, queria mudar a reserva para tr=C3=AAs noites.</div><blockquote type=3D"cite">A sua reserva est=C3=A1 confirmada.</blockquote></body></html>
--Apple-Mail=_7E1C--
"""

THUNDERBIRD_FORWARD = f"""\
Message-ID: <9b8c7d6e-1111-2222-3333-444455556666@posteo.de>
Date: Thu, 3 Dec 2026 12:00:00 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Fwd: Anfrage Zimmer
From: Lena Fischer <lena.fischer@posteo.de>
To: {HOTEL}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit




-------- Forwarded Message --------
Subject: 	Anfrage Zimmer
Date: 	Wed, 2 Dec 2026 20:00:00 +0100
From: 	Max Fischer <max@posteo.de>
To: 	Lena Fischer <lena.fischer@posteo.de>

Do you have a room with two single beds on 20 December?

Max
"""

LATIN1_QP = f"""\
From: =?iso-8859-1?Q?Jos=E9_Mu=F1oz?= <jmunoz@telefonica.net>
To: {HOTEL}
Subject: =?iso-8859-1?Q?Habitaci=F3n_para_el_puente?=
Date: Thu, 3 Dec 2026 13:00:00 +0100
Message-ID: <000001d9abcd$12345678$9abcdef0@telefonica.net>
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Buenas tardes, =BFtienen habitaci=F3n doble para el 5 de diciembre? Somos =
dos adultos y un ni=F1o.

Gracias
"""

BASE64_UTF8 = (
    "From: Marie <marie@example.fr>\n"
    f"To: {HOTEL}\n"
    "Subject: =?UTF-8?B?Q2hhbWJyZSDDoCBkZXV4IGxpdHM=?=\n"
    "Message-ID: <b64-1@example.fr>\n"
    "MIME-Version: 1.0\n"
    'Content-Type: text/plain; charset="utf-8"\n'
    "Content-Transfer-Encoding: base64\n\n"
    + base64.encodebytes(b"Hello, is breakfast included? Merci, Marie").decode()
)

WEB_FORM_REPLY_TO = f"""\
From: Booking form <noreply@forms.example.com>
Reply-To: Pedro Gomez <pedro.gomez@example.com>
To: {HOTEL}
Subject: Contact form
Message-ID: <form-1@forms.example.com>
Content-Type: text/plain; charset=utf-8

Hola, quiero saber si admiten mascotas.
"""

AUTO_REPLY = f"""\
From: Ana Garcia <ana.garcia@gmail.com>
To: {HOTEL}
Subject: Fuera de la oficina: Re: Disponibilidad
Auto-Submitted: auto-replied
Message-ID: <auto-1@gmail.com>
Content-Type: text/plain; charset=utf-8

Estoy fuera de la oficina hasta el lunes.
"""

OUT_OF_OFFICE_EXCHANGE = f"""\
From: John Smith <John.Smith@outlook.com>
To: {HOTEL}
Subject: Automatic reply: Room for two nights
X-Auto-Response-Suppress: All
Message-ID: <oof-1@outlook.com>
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
"""

BOUNCE = f"""\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {HOTEL}
Subject: Delivery Status Notification (Failure)
Message-ID: <bounce-1@mx.google.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Your message wasn't delivered to nobody@example.org because the address couldn't be found.
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Final-Recipient: rfc822; nobody@example.org
Action: failed
Status: 5.1.1
--b1--
"""

LIST_MAIL = f"""\
From: Hotel News <news@hotelnews.example>
To: {HOTEL}
Subject: This week in hospitality
List-Id: Hotel News <news.hotelnews.example>
List-Unsubscribe: <mailto:unsubscribe@hotelnews.example>
Message-ID: <list-1@hotelnews.example>
Content-Type: text/plain; charset=utf-8

Ten trends for 2027.
"""

BULK_MAIL = f"""\
From: Offers <offers@shop.example>
To: {HOTEL}
Subject: 50% off
Precedence: bulk
Message-ID: <bulk-1@shop.example>
Content-Type: text/plain; charset=utf-8

Buy now.
"""


def voice_note_mail(audio: bytes) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Ana García <ana.garcia@gmail.com>"
    msg["To"] = HOTEL
    msg["Subject"] = "Nota de voz"
    msg["Message-ID"] = "<voice-1@mail.gmail.com>"
    msg.set_content("Te mando un audio.")
    msg.add_attachment(audio, maintype="audio", subtype="ogg", filename="nota.ogg")
    return msg.as_bytes()


def as_bytes(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")
