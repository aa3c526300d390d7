"""`hotelctl dlq`: list, show, replay and drop the gateway's dead letters over gRPC via Envoy."""

from __future__ import annotations

import argparse
import json
import os
import sys

import grpc
from google.protobuf.json_format import MessageToDict
from hotel.channel.v1 import channel_service_pb2 as pb
from hotel.channel.v1 import channel_service_pb2_grpc as pb_grpc
from rich.console import Console
from rich.table import Table

from hotelctl.mesh import load_mesh


def dlq_address(args: argparse.Namespace) -> str:
    """Envoy's mesh listener: `--address`, else 127.0.0.1 at the mesh port shifted by the
    offset (`--port-offset`, else $POSADA_PORT_OFFSET, like every other command)."""
    if args.address:
        return str(args.address)
    offset = args.port_offset
    if offset is None:
        offset = int(os.environ.get("POSADA_PORT_OFFSET", "0") or 0)
    return f"127.0.0.1:{load_mesh(offset=int(offset)).mesh_port}"


async def run_dlq(args: argparse.Namespace) -> int:
    address = dlq_address(args)
    if args.action in ("show", "replay", "drop") and not args.id:
        print(f"hotelctl dlq {args.action} needs an id (see `hotelctl dlq list`)", file=sys.stderr)
        return 2
    console = Console()
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.ChannelServiceStub(channel)
        try:
            if args.action == "list":
                reply = await stub.ListDeadLetters(
                    pb.ListDeadLettersRequest(page_size=args.limit), timeout=5
                )
                if args.json:
                    print(json.dumps(MessageToDict(reply)))
                    return 0
                table = Table(title=f"dead letters ({len(reply.dead_letters)})")
                for col in ("id", "message id", "kind", "attempts", "reason"):
                    table.add_column(col)
                for dl in reply.dead_letters:
                    table.add_row(
                        dl.id,
                        dl.message.message_id,
                        str(dl.message.kind),
                        str(dl.attempts),
                        dl.reason[:80],
                    )
                console.print(table)
            elif args.action == "show":
                got = await stub.GetDeadLetter(pb.GetDeadLetterRequest(id=args.id), timeout=5)
                print(json.dumps(MessageToDict(got.dead_letter), indent=2, ensure_ascii=False))
            elif args.action == "replay":
                replayed = await stub.ReplayDeadLetter(
                    pb.ReplayDeadLetterRequest(id=args.id), timeout=5
                )
                console.print(f"replayed {args.id} as inbox entry {replayed.stream_id}")
            else:
                await stub.DropDeadLetter(pb.DropDeadLetterRequest(id=args.id), timeout=5)
                console.print(f"dropped {args.id}")
        except grpc.aio.AioRpcError as err:
            print(f"{err.code().name}: {err.details()}", file=sys.stderr)
            return 1
    return 0
