package main

import (
	"database/sql"
	"fmt"
	"os"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	db, _ := sql.Open("postgres", "host=/tmp/incidentmap-bench-perf/postgres/run user=postgres dbname=incidentmap sslmode=disable")
	db.SetMaxOpenConns(1)
	for _, f := range os.Args[1:] {
		q, _ := os.ReadFile(f)
		for round := 0; round < 2; round++ {
			n := 20
			c0, t0 := cpu(), time.Now()
			var bytes int
			for i := 0; i < n; i++ {
				rows, err := db.Query(string(q))
				if err != nil {
					panic(err)
				}
				cols, _ := rows.Columns()
				dest := make([]any, len(cols))
				raw := new(sql.RawBytes)
				dest[0] = new(any)
				for j := range dest {
					dest[j] = new(any)
				}
				dest[len(dest)-1] = new(any)
				if f[len(f)-5] == 'b' {
					dest[2] = raw
				} else {
					dest[0] = raw
				}
				for rows.Next() {
					if err := rows.Scan(dest...); err != nil {
						panic(err)
					}
					bytes += len(*raw)
				}
				rows.Close()
			}
			fmt.Printf("%s: Go CPU %v/query, wall %v/query, %d bytes\n", f, (cpu()-c0)/time.Duration(n), time.Since(t0)/time.Duration(n), bytes/n)
		}
	}
}
