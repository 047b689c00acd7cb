"""Synthetic incidents for screenshots, as an ACLED-style CSV on stdout.

Not real events: Gaussian clusters around a few places where conflicts were
in the news, with event types weighted per cluster so that the density
view's colours differ. Deterministic (seeded). Usage: synthetic.py N
"""
import csv
import random
import sys

TYPES = {
    "Battles": "Armed clash",
    "Explosions/Remote violence": "Shelling/artillery/missile attack",
    "Violence against civilians": "Attack",
    "Protests": "Peaceful protest",
    "Riots": "Violent demonstration",
    "Strategic developments": "Looting/property destruction",
}
# (lon, lat, sigma in degrees, weight, dominant type)
CLUSTERS = [
    (37.5, 48.0, 1.2, 6, "Explosions/Remote violence"),  # eastern Ukraine
    (47.0, 40.2, 0.5, 2, "Explosions/Remote violence"),  # Azerbaijan
    (37.0, 35.5, 1.0, 3, "Battles"),  # Syria
    (44.5, 15.0, 1.2, 2, "Explosions/Remote violence"),  # Yemen
    (32.5, 15.5, 1.5, 3, "Battles"),  # Sudan
    (-1.5, 13.0, 2.0, 2, "Violence against civilians"),  # Sahel
    (96.0, 21.0, 1.5, 2, "Battles"),  # Myanmar
    (29.0, -1.5, 1.0, 2, "Violence against civilians"),  # eastern DR Congo
    (-75.0, 4.5, 1.5, 1, "Protests"),  # Colombia
    (-99.0, 19.5, 1.5, 1, "Riots"),  # Mexico
    (34.4, 31.4, 0.2, 2, "Explosions/Remote violence"),  # Gaza
]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    rnd = random.Random(15)
    total = sum(c[3] for c in CLUSTERS)
    out = csv.writer(sys.stdout)
    out.writerow(["event_id_cnty", "event_date", "event_type", "sub_event_type", "latitude", "longitude", "title"])
    for i in range(n):
        r = rnd.uniform(0, total)
        for lon, lat, sigma, weight, dominant in CLUSTERS:
            r -= weight
            if r <= 0:
                break
        typ = dominant if rnd.random() < 0.6 else rnd.choice(list(TYPES))
        y = max(-85.0, min(85.0, rnd.gauss(lat, sigma)))
        x = (rnd.gauss(lon, sigma) + 180) % 360 - 180
        day = 1 + rnd.randrange(28)
        month = 1 + rnd.randrange(12)
        out.writerow([f"SYN{i}", f"2024-{month:02d}-{day:02d}", typ, TYPES[typ], f"{y:.5f}", f"{x:.5f}", f"Synthetic {typ.lower()} {i}"])


main()
