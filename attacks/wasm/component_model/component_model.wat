(component
  (core module $m
    (func (export "_start") (loop $l (br $l))))
  (core instance $i (instantiate $m))
)
