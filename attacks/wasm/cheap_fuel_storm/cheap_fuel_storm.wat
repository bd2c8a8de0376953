;; Burns wall time through host calls that cost almost no fuel: random_get of 1 MiB, again and again,
;; for five seconds of monotonic time (DEFANGED: at most 20000 calls, and it stops by itself after 5 s).
;; Fuel alone does not stop this (a host call is one operator, whatever it costs the host); only the wall
;; deadline does. Contained: killed at the wall limit (3 s in the suite).
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 32)
  (func $now (result i64)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 0)))
    (i64.load (i32.const 0)))
  (func $main (export "_start")
    (local $start i64)
    (local $i i32)
    (local.set $start (call $now))
    (block $done
      (loop $l
        (drop (call $random_get (i32.const 65536) (i32.const 1048576)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.ge_u (local.get $i) (i32.const 20000)))
        ;; five seconds of monotonic time
        (br_if $done (i64.ge_u (i64.sub (call $now) (local.get $start)) (i64.const 5000000000)))
        (br $l))))
)
